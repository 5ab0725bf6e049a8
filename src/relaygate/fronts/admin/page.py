"""`GET /admin`: the admin page. Static and public: it holds no data; everything it shows
comes from the admin API, with the admin key the user signs in with. Its script and style
are served with the playground's under `/static/`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from relaygate.fronts.playground import STATIC


async def admin_page(request: Request) -> Response:
    return FileResponse(STATIC / "admin.html", headers={"Cache-Control": "no-cache"})


routes = [Route("/admin", admin_page, methods=["GET"])]
