"""Generated held-out secrets: 240 fake keys of the issue's kinds and 240 near misses, in
surroundings the `dev` generator does not use (config files of several formats, code in
several languages, logs, chat) and from a seed of their own. All go to the `heldout` split;
no detector change may special-case them. No real secret: random strings in each vendor's
published shape."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from typing import Any

R = random.Random(1616)
UP, LOW, DIG = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LOW + DIG
HEX = "0123456789abcdef"


def rand(chars: str, size: int) -> str:
    return "".join(R.choice(chars) for _ in range(size))


def _name() -> str:
    return R.choice(["svc", "deploy", "ci-bot", "alice", "reporting", "etl", "backup"])


def place(value: str, name: str) -> str:
    """`value` as something a person pastes: a config line, code, a log, a chat message."""
    return R.choice([
        f"{name.upper()}={value}",
        f'{name.lower()}: "{value}"',
        f'{{"{name.lower()}": "{value}", "region": "eu-west-1"}}',
        f"[{_name()}]\n{name.lower()} = {value}\n",
        f'const {name.lower()} = "{value}";',
        f"os.environ['{name.upper()}'] = '{value}'",
        f"2024-05-0{R.randint(1, 9)}T10:{R.randint(10, 59)}:00Z DEBUG using credential {value}",
        f"hey, can you tell me why this doesn't work? I set {value} and still get 403",
        f"  - name: {name.upper()}\n    value: {value}",
        f"docker run -e {name.upper()}={value} acme/worker:latest",
        f"<add key=\"{name}\" value=\"{value}\" />",
        f"set -x; {name.lower()}='{value}' ./run.sh",
    ])


def aws_access() -> str:
    return place(R.choice(["AKIA", "ASIA"]) + rand(UP + DIG, 16),
                 "aws_access_key_id")


def aws_secret() -> str:
    value = rand(ALNUM + "/+", 40)
    return R.choice([
        f"aws_secret_access_key={value}",
        f'"AWS_SECRET_ACCESS_KEY": "{value}"',
        f"export AWS_SECRET_ACCESS_KEY='{value}'",
        f"aws configure set aws_secret_access_key {value}",
        f"AWSSecretKey: {value}",
    ])


def gcp() -> str:
    project = f"{rand(LOW, 5)}-{rand(DIG, 6)}"
    account = {"type": "service_account", "project_id": project,
               "private_key_id": rand(HEX, 40),
               "private_key": "-----BEGIN PRIVATE KEY-----\n" + rand(ALNUM + "+/", 64)
               + "\n-----END PRIVATE KEY-----\n",
               "client_email": f"{rand(LOW, 6)}@{project}.iam.gserviceaccount.com",
               "client_id": rand(DIG, 21)}
    return json.dumps(account, indent=R.choice([None, 2]))


def github() -> str:
    if R.random() < 0.3:
        token = f"github_pat_{rand(ALNUM, 22)}_{rand(ALNUM, 59)}"
    else:
        token = R.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + rand(ALNUM, 36)
    return place(token, R.choice(["GITHUB_TOKEN", "GH_TOKEN", "gh_auth"]))


def gitlab() -> str:
    token = R.choice(["glpat-", "glpat-", "gldt-", "glrt-"]) + rand(ALNUM + "-_", 20)
    return place(token, R.choice(["GITLAB_TOKEN", "CI_JOB_TOKEN_OVERRIDE", "gl_token"]))


def slack() -> str:
    if R.random() < 0.25:
        return (f"webhook_url: https://hooks.slack.com/services/T{rand(UP + DIG, 10)}/"
                f"B{rand(UP + DIG, 10)}/{rand(ALNUM, 24)}")
    prefix = R.choice(["xoxb", "xoxp", "xoxa", "xoxs"])
    token = f"{prefix}-{rand(DIG, 12)}-{rand(DIG, 12)}-{rand(LOW + DIG, 32 if prefix == 'xoxp' else 24)}"
    return place(token, R.choice(["SLACK_BOT_TOKEN", "slack_token"]))


def stripe() -> str:
    token = R.choice(["sk_live_", "rk_live_", "sk_test_", "rk_test_"]) + rand(ALNUM, R.randint(24, 99))
    return place(token, R.choice(["STRIPE_SECRET_KEY", "stripe_key", "payments_key"]))


def openai() -> str:
    token = R.choice([
        "sk-" + rand(ALNUM, 48),
        "sk-proj-" + rand(ALNUM + "-_", R.randint(48, 156)),
        "sk-svcacct-" + rand(ALNUM + "-_", R.randint(48, 120)),
        "sk-" + rand(ALNUM, 20) + "T3BlbkFJ" + rand(ALNUM, 20),
    ])
    return place(token, R.choice(["OPENAI_API_KEY", "openai_key", "llm_key"]))


def anthropic() -> str:
    token = R.choice(["sk-ant-api03-", "sk-ant-admin01-"]) + rand(ALNUM + "-_", 93) + "AA"
    return place(token, R.choice(["ANTHROPIC_API_KEY", "claude_key"]))


def private_key() -> str:
    kind = R.choice(["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", ""])
    body = "\n".join(rand(ALNUM + "+/", 64) for _ in range(R.randint(2, 8)))
    block = f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
    return R.choice([
        block, f"here's the deploy key, keep it safe:\n{block}\n",
        "ssh_key: |\n  " + block.replace("\n", "\n  "),
        json.dumps({"key": block}),
    ])


def jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    head = part({"alg": R.choice(["HS256", "RS256", "ES384"]), "typ": "JWT",
                 **({"kid": rand(HEX, 8)} if R.random() < 0.5 else {})})
    body = part({"sub": rand(DIG, 6), "iat": R.randint(1_600_000_000, 1_800_000_000),
                 "scope": R.choice(["read", "admin", "read write"])})
    token = f"{head}.{body}.{rand(ALNUM + '-_', R.choice([43, 86, 64]))}"
    return R.choice([f"Authorization: Bearer {token}", f"Cookie: session={token}",
                     place(token, "id_token"), f"the token {token} expired?"])


def url_password() -> str:
    scheme = R.choice(["postgresql", "mysql", "redis", "mongodb+srv", "amqp", "https", "ftp",
                       "smtp"])
    password = rand(ALNUM, R.randint(6, 10)) + R.choice(["", "!", "#", "%21", "_", "-"]) \
        + rand(ALNUM, R.randint(2, 6))
    host = R.choice(["db.internal", "10.1.2.3", "cache.prod.example", "mq.example.net"])
    url = f"{scheme}://{_name()}:{password}@{host}:{R.randint(1000, 9999)}/{rand(LOW, 5)}"
    return place(url, R.choice(["DATABASE_URL", "broker_url", "dsn"]))


def high_entropy() -> str:
    name = R.choice(["db_password", "SECRET_KEY", "client_secret", "auth_token", "API_KEY",
                     "webhook_secret", "signing_key", "master_password", "appSecret",
                     "encryption_key", "x-api-key", "refresh_token"])
    value = rand(ALNUM + "!#%&*-_", R.randint(12, 40))
    return R.choice([
        f'{name} = "{value}"', f"{name}: {value}", f'"{name}": "{value}"',
        f"{name.upper()}={value}", f"--{name.replace('_', '-')}={value}",
        f"{name} => '{value}'", f"<{name}>{value}</{name}>",
    ])


MAKERS: list[tuple[str, Callable[[], str]]] = [
    ("AWS_ACCESS_KEY", aws_access), ("AWS_SECRET_KEY", aws_secret),
    ("GCP_SERVICE_ACCOUNT", gcp), ("GITHUB_TOKEN", github), ("GITLAB_TOKEN", gitlab),
    ("SLACK_TOKEN", slack), ("STRIPE_KEY", stripe), ("OPENAI_KEY", openai),
    ("ANTHROPIC_KEY", anthropic), ("PRIVATE_KEY", private_key), ("JWT", jwt),
    ("URL_PASSWORD", url_password), ("HIGH_ENTROPY", high_entropy),
]

NEGATIVES: list[Callable[[], str]] = [
    lambda: f"container id {rand(HEX, 64)}",
    lambda: f"git checkout {rand(HEX, 40)}",
    lambda: f"trace_id={rand(HEX, 32)} span_id={rand(HEX, 16)}",
    lambda: f"the build artefact is sha1:{rand(HEX, 40)}",
    lambda: f"integrity: sha512-{rand(ALNUM + '+/', 86)}==",
    lambda: f"password_reset_url = '/accounts/reset/{rand(LOW, 6)}/'",
    lambda: f"token_limit = {R.randint(1000, 200000)}",
    lambda: "api_key = os.getenv('API_KEY')",
    lambda: 'secret = config["secret"]',
    lambda: "password: ${DB_PASSWORD}",
    lambda: "AWS_SECRET_ACCESS_KEY=<paste your secret here>",
    lambda: "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
    lambda: "client_secret: '********'",
    lambda: f"sk_live_ keys start with that prefix; ours is stored in vault at kv/{rand(LOW, 5)}",
    lambda: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    lambda: "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQx\n-----END CERTIFICATE-----",
    lambda: f"postgresql://{_name()}@db.internal:5432/app?sslmode=require",
    lambda: f"https://example.test/users/{rand(LOW, 6)}:{R.randint(1, 99)}@latest",
    lambda: f"the word {rand(LOW, 8)} is {R.randint(4, 12)} letters long",
    lambda: f"uuid4: {rand(HEX, 8)}-{rand(HEX, 4)}-4{rand(HEX, 3)}-8{rand(HEX, 3)}-{rand(HEX, 12)}",
    lambda: "def check(password: str) -> bool:\n    return len(password) >= 12",
    lambda: f"eyJ is how base64 JSON starts; see RFC 7519 section {R.randint(1, 9)}",
    lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk2Q user@laptop",
    lambda: f"akia{rand(LOW, 3)} is a made-up word in the test fixture",
    lambda: f"xoxb- tokens are bot tokens; rotate them every {R.randint(30, 90)} days",
    lambda: f"ghp_ means a personal access token (issue #{R.randint(100, 999)})",
    lambda: f"password_min_length: {R.randint(8, 16)}\npassword_max_age_days: {R.randint(30, 90)}",
    lambda: f"color: #{rand(HEX, 6)}; background: #{rand(HEX, 6)}",
    lambda: f"ISBN {R.randint(100, 999)}-{R.randint(0, 9)}-{R.randint(10, 99)}-{R.randint(100000, 999999)}-{R.randint(0, 9)}",
    lambda: f"secret_santa_group = '{R.choice(['family', 'office', 'friends'])}'",
]


def rows() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in range(240):
        kind, maker = MAKERS[index % len(MAKERS)]
        out.append({"text": maker(), "label": 1, "kind": kind})
    for index in range(240):
        out.append({"text": NEGATIVES[index % len(NEGATIVES)](), "label": 0,
                    "kind": "near_miss"})
    return out
