"""Rendering in the sandbox: strict variables, typed schema, the classic escapes refused."""

from __future__ import annotations

import pytest

from relaygate.errors import InvalidRequest
from relaygate.prompts.choose import choose, pick
from relaygate.prompts.content import VersionContent
from relaygate.prompts.render import Compiled, compile_version
from relaygate.types import Message, TextPart

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ name.__class__.__base__.__subclasses__() }}",
    "{% set x = [].append %}{{ x.__self__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
]


def _compiled(text: str, variables: list[dict[str, object]] | None = None) -> Compiled:
    return compile_version(VersionContent.model_validate(
        {"messages": [{"role": "user", "content": text}], "variables": variables or []}))


def _text(messages: list[Message]) -> str:
    part = messages[0].content[0]
    assert isinstance(part, TextPart)
    return part.text


@pytest.mark.parametrize("text", ESCAPES)
def test_a_sandbox_escape_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _compiled(text).render({"name": "x"})
    assert caught.value.code in {"template_unsafe", "missing_variable", "template_error"}
    assert "<class" not in caught.value.message and "subprocess" not in caught.value.message


def test_the_mro_escape_is_named_unsafe() -> None:
    with pytest.raises(InvalidRequest) as caught:
        _compiled("{{ ''.__class__.__mro__ }}").render({})
    assert caught.value.code == "template_unsafe"
    assert caught.value.status == 400


def test_a_variable_is_filled_and_a_missing_one_is_named() -> None:
    compiled = _compiled("Hello {{ name }}, {{ city }}")
    assert _text(compiled.render({"name": "Ada", "city": "Paris"})) == "Hello Ada, Paris"
    with pytest.raises(InvalidRequest) as caught:
        compiled.render({"name": "Ada"})
    assert caught.value.param == "prompt.variables.city"
    assert caught.value.code == "missing_variable"


def test_the_schema_types_defaults_and_unknown_names() -> None:
    compiled = _compiled("{{ n + 1 }} {{ tone }}", [
        {"name": "n", "type": "integer"},
        {"name": "tone", "required": False, "default": "kind"},
    ])
    assert _text(compiled.render({"n": 1})) == "2 kind"
    for bad, code in (({"n": "1"}, "invalid_variable"), ({"n": True}, "invalid_variable"),
                      ({}, "missing_variable"), ({"n": 1, "x": 2}, "unknown_variable")):
        with pytest.raises(InvalidRequest) as caught:
            compiled.render(bad)
        assert caught.value.code == code
        assert caught.value.param is not None and caught.value.param.startswith(
            "prompt.variables.")
    assert _text(compiled.render({"n": 1, "x": 2}, strict=False)) == "2 kind"


def test_a_syntax_error_is_refused_when_the_version_is_made() -> None:
    with pytest.raises(InvalidRequest) as caught:
        _compiled("Hello {{ name")
    assert caught.value.param == "messages[0].content"


def test_choose_by_version_label_and_default() -> None:
    labels = {"production": {"v2": 100}, "ab": {"v1": 50, "v3": 50}}
    assert choose("t", 3, labels, "v1", "u") == 1
    assert choose("t", 3, labels, None, "u") == 2
    assert choose("t", 3, {}, None, "u") == 3  # no production label: the newest
    assert choose("t", 3, labels, "ab", "u") in (1, 3)
    assert choose("t", 3, labels, "ab", "u") == choose("t", 3, labels, "ab", "u")
    for wanted in ("v4", "staging"):
        with pytest.raises(Exception) as caught:
            choose("t", 3, labels, wanted, "u")
        assert getattr(caught.value, "param", None) == "prompt.version"
    assert pick({"v1": 0, "v2": 1}, "anything") == 2
