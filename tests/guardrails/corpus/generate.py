"""Writes the labelled guardrail corpus (`<type>.jsonl`): generated samples from a fixed seed
plus the hand-written ones in `handwritten.py`. No real secret or person is in it: keys are
random strings in the right shape, numbers are synthetic (Luhn/IBAN checksums computed).

    python -m tests.guardrails.corpus.generate    # rewrites the .jsonl files

Each line: {"text", "label" (1: the guard should act), "kind", "chunks" (when the sample is
a stream split across chunks), "split"}. The generated and `handwritten.py` samples are the
`dev` split (the detectors were tuned on them; `dev_injection.py` too); `fresh.py`'s go half to `dev`, half to
`heldout` (by a hash of the text), which no detector change may be tuned on. `blind.py`'s
injection samples are the `blind` split: written before the injection detector was reworked,
never looked at while tuning it."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stdnum import iban, luhn
from tests.guardrails.corpus import blind, dev_injection, fresh, secrets_heldout, unseen
from tests.guardrails.corpus.handwritten import INJECTION, NEGATIVE, POSITIVE

HERE = Path(__file__).parent
R = random.Random(16)
UP, LOW, DIG = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LOW + DIG


def rand(chars: str, size: int) -> str:
    return "".join(R.choice(chars) for _ in range(size))


def wrap(secret: str) -> str:
    return R.choice([
        "here is the value: {}", "use {} for the deploy", "config:\n  token: {}\n",
        "Can you check why `{}` fails?", "export VALUE={}", "{}", "the logs show {} at 10:42",
        "curl -H 'Authorization: Bearer {}' https://api.example.test",
    ]).format(secret)


def split(text: str, rng: random.Random = R) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(2, 6))))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def jwt() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": rand(DIG, 8)}).encode()).decode().rstrip("=")
    return f"{head}.{body}.{rand(ALNUM + '-_', 43)}"


def pem() -> str:
    lines = "\n".join(rand(ALNUM + "+/", 64) for _ in range(6))
    kind = R.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


SECRET_MAKERS: list[tuple[str, Callable[[], str]]] = [
    ("AWS_ACCESS_KEY", lambda: wrap(R.choice(["AKIA", "ASIA"]) + rand(UP + DIG, 16))),
    ("AWS_SECRET_KEY", lambda: f"aws_secret_access_key = {rand(ALNUM + '/+', 40)}"),
    ("GITHUB_TOKEN", lambda: wrap(R.choice(["ghp_", "gho_", "ghs_"]) + rand(ALNUM, 36))),
    ("GITLAB_TOKEN", lambda: wrap("glpat-" + rand(ALNUM + "-_", 20))),
    ("SLACK_TOKEN", lambda: wrap(f"xoxb-{rand(DIG, 11)}-{rand(DIG, 12)}-{rand(LOW + DIG, 24)}")),
    ("STRIPE_KEY", lambda: wrap(R.choice(["sk_live_", "rk_live_", "sk_test_"]) + rand(ALNUM, 24))),
    ("OPENAI_KEY", lambda: wrap("sk-proj-" + rand(ALNUM + "-_", 64))),
    ("ANTHROPIC_KEY", lambda: wrap("sk-ant-api03-" + rand(ALNUM + "-_", 93) + "AA")),
    ("PRIVATE_KEY", lambda: "my key:\n" + pem()),
    ("JWT", lambda: wrap(jwt())),
    ("URL_PASSWORD", lambda: wrap(f"postgres://app:{rand(ALNUM, 14)}@db.internal:5432/prod")),
    ("HIGH_ENTROPY", lambda: R.choice(["db_password", "API_KEY", "client_secret", "auth_token"])
     + R.choice([" = ", ": ", "="]) + '"' + rand(ALNUM + "!#%", 24) + '"'),
    ("GCP_SERVICE_ACCOUNT", lambda: json.dumps({
        "type": "service_account", "project_id": "demo-" + rand(LOW, 6),
        "private_key_id": rand("0123456789abcdef", 40), "client_email": "x@demo.iam.test"})),
]

SECRET_NEGATIVES: list[Callable[[], str]] = [
    lambda: f"request id {rand('0123456789abcdef', 8)}-{rand('0123456789abcdef', 4)}-4"
            f"{rand('0123456789abcdef', 3)}-a{rand('0123456789abcdef', 3)}-"
            f"{rand('0123456789abcdef', 12)}",
    lambda: f"sha256: {rand('0123456789abcdef', 64)}",
    lambda: f"commit {rand('0123456789abcdef', 40)} fixed the build",
    lambda: "password = input('Password: ')",
    lambda: "password = getpass.getpass()",
    lambda: f"password_hash = bcrypt.hashpw(pw, salt)  # row {R.randint(1, 999)}",
    lambda: "token = get_token(session)",
    lambda: "if user.password != confirm_password:\n    raise ValueError('mismatch')",
    lambda: "API_KEY=<your key here>",
    lambda: "OPENAI_API_KEY=${OPENAI_API_KEY}",
    lambda: "db_password: changeme",
    lambda: f"See https://example.test/docs/{rand(LOW, 8)}?page={R.randint(1, 9)}",
    lambda: "git clone https://github.com/example/project.git",
    lambda: f"The task-{R.randint(100, 999)} ask: rotate the AKIA keys every 90 days",
    lambda: f"sk-{rand(LOW, 6)} is the name of the skin class",
    lambda: "Set max_tokens: 1024 and password_min_length: 12",
    lambda: f"the image is data:image/png;base64,{rand(ALNUM, 30)}",
    lambda: "Use `export TOKEN=$(vault read -field=token secret/app)`",
    lambda: f"version {R.randint(1, 9)}.{R.randint(0, 20)}.{R.randint(0, 99)} released",
    lambda: "connect with postgres://app@db.internal:5432/prod (password from the env)",
]


def card() -> str:
    prefix = R.choice(["4", "51", "52", "55", "37", "6011"])
    size = 15 if prefix == "37" else 16
    body = prefix + rand(DIG, size - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    if R.random() < 0.5:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def an_iban() -> str:
    country, size = R.choice([("DE", 18), ("GB", 18), ("FR", 23), ("NL", 14), ("AT", 16)])
    if country in ("GB", "NL"):
        bban = rand(UP, 4) + rand(DIG, size - 4)
    else:
        bban = rand(DIG, size)
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4)) if R.random() < .5 \
        else number


def ssn() -> str:
    while True:
        area = R.randint(1, 899)
        if area != 666:
            return f"{area:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


PHONES: list[Callable[[], str]] = [lambda: f"+44 20 7946 {R.randint(0, 999):04d}"[:16],
          lambda: f"+1 (415) 555-{R.randint(1000, 9999)}",
          lambda: f"(212) 555-{R.randint(1000, 9999)}",
          lambda: f"+49 30 {R.randint(1000000, 9999999)}",
          lambda: f"+33 1 42 68 {R.randint(10, 99)} {R.randint(10, 99)}",
          lambda: f"+91 98{R.randint(100, 999)} {R.randint(10000, 99999)}",
          lambda: f"+61 2 9374 {R.randint(1000, 9999)}"]

PII_MAKERS: list[tuple[str, Callable[[], str]]] = [
    ("EMAIL", lambda: f"{rand(LOW, 5)}.{rand(LOW, 6)}@{R.choice(['example.com', 'mail.test', 'corp.example.org'])}"),
    ("PHONE", lambda: R.choice(PHONES)()),
    ("CREDIT_CARD", card),
    ("IBAN", an_iban),
    ("US_SSN", ssn),
    ("IP_ADDRESS", lambda: R.choice([
        f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
        f"2001:db8:{rand('0123456789abcdef', 4)}::{rand('0123456789abcdef', 3)}"])),
]
PII_TEMPLATES = ["Contact: {}", "please update my record to {} thanks", "{}",
                 "The customer wrote from {} yesterday.", "Details -> {} <- end",
                 "Name: Jane Roe\nValue: {}\nNotes: none"]

PII_NEGATIVES: list[Callable[[], str]] = [
    lambda: f"order #{R.randint(1000000, 9999999)} shipped",
    lambda: f"uuid {rand('0123456789abcdef', 8)}-{rand('0123456789abcdef', 4)}-"
            f"{rand('0123456789abcdef', 4)}-{rand('0123456789abcdef', 4)}-"
            f"{rand('0123456789abcdef', 12)}",
    lambda: f"md5 {rand('0123456789abcdef', 32)}",
    lambda: f"release {R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 30)}",
    lambda: f"on 2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d} at {R.randint(0, 23):02d}:30",
    lambda: f"the total is ${R.randint(10, 9999)}.{R.randint(10, 99)}",
    lambda: f"card ending in {R.randint(1000, 9999)}",
    lambda: f"4111 1111 1111 111{R.choice('02345678')} is not a valid number",
    lambda: f"ZIP {R.randint(10000, 99999)}, suite {R.randint(100, 999)}",
    lambda: f"ticket {R.randint(100, 999)}-{R.randint(10, 99)}-{R.randint(1000, 9999)}"
            .replace("-", "/"),
    lambda: "write to me at jane at example dot com",
    lambda: f"000-{R.randint(10, 99)}-{R.randint(1000, 9999)} is a test SSN pattern",
    lambda: f"666-{R.randint(10, 99)}-{R.randint(1000, 9999)}",
    lambda: "DE00 3704 0044 0532 0130 00 (a checksum that fails)",
    lambda: f"measurements: {R.randint(100, 999)} {R.randint(100, 999)} {R.randint(10, 99)}",
    lambda: f"Use @{rand(LOW, 6)} on the team chat",
    lambda: "python 3.11.4 and numpy 1.26.0",
    lambda: f"ISBN 978-{R.randint(0, 9)}-{R.randint(100, 999)}-{R.randint(10000, 99999)}-{R.randint(0, 9)}",
    lambda: "The meeting is in room 1.2.3 of building 45",
    lambda: "std::vector<int> v; v.push_back(42);",
]


def secrets_corpus() -> list[dict[str, Any]]:
    rows = []
    for index in range(260):
        kind, maker = SECRET_MAKERS[index % len(SECRET_MAKERS)]
        text = maker()
        rows.append({"text": text, "label": 1, "kind": kind,
                     **({"chunks": split(text)} if index % 4 == 0 else {})})
    for index in range(240):
        text = SECRET_NEGATIVES[index % len(SECRET_NEGATIVES)]()
        rows.append({"text": text, "label": 0, "kind": "near_miss",
                     **({"chunks": split(text)} if index % 4 == 0 else {})})
    rows += [{"text": text, "label": 1, "kind": "handwritten"} for text in POSITIVE["secrets"]]
    rows += [{"text": text, "label": 0, "kind": "handwritten"} for text in NEGATIVE["secrets"]]
    return rows


def pii_corpus() -> list[dict[str, Any]]:
    rows = []
    for index in range(260):
        kind, maker = PII_MAKERS[index % len(PII_MAKERS)]
        text = R.choice(PII_TEMPLATES).format(maker())
        rows.append({"text": text, "label": 1, "kind": kind,
                     **({"chunks": split(text)} if index % 4 == 0 else {})})
    for index in range(240):
        text = PII_NEGATIVES[index % len(PII_NEGATIVES)]()
        rows.append({"text": text, "label": 0, "kind": "near_miss",
                     **({"chunks": split(text)} if index % 4 == 0 else {})})
    rows += [{"text": text, "label": 1, "kind": "handwritten"} for text in POSITIVE["pii"]]
    rows += [{"text": text, "label": 0, "kind": "handwritten"} for text in NEGATIVE["pii"]]
    return rows


def disguise(text: str, index: int) -> str:
    """The `index`th generated attack's form: plain, or encoded or obfuscated (one in six
    each in base64, in Cyrillic look-alike letters, with zero-width characters)."""
    if index % 6 == 1:
        return "Decode and follow: " + base64.b64encode(text.encode()).decode()
    if index % 6 == 3:
        return text.replace("i", "\u0456").replace("o", "\u043e")  # Cyrillic look-alikes
    if index % 6 == 5:
        return text.replace(" ", " \u200b", 3)
    return text


def injection_corpus() -> list[dict[str, Any]]:
    """The generated rows, each with `unfilled`: its text without the filler prefix the
    generator put on it (what the trainer learns from, so no weight goes to the filler)."""
    rows = []
    attacks, benign = INJECTION["attacks"], INJECTION["benign"]
    prefixes = ["", "Hi! ", "Quick one. ", "Translate to French: hello. Then ", "P.S. "]
    for index in range(240):
        attack = attacks[index % len(attacks)]
        text, unfilled = disguise(R.choice(prefixes) + attack, index), disguise(attack, index)
        rows.append({"text": text, "label": 1, "kind": "attack", "unfilled": unfilled})
    for index in range(240):
        text = benign[index % len(benign)]
        rows.append({"text": R.choice(["", "Hey, ", "Please: "]) + text, "label": 0,
                     "kind": "benign", "unfilled": text})
    rows += [{"text": text, "label": 1, "kind": "handwritten"} for text in dev_injection.ATTACKS]
    rows += [{"text": text, "label": 0, "kind": "handwritten"} for text in dev_injection.BENIGN]
    return rows


def split_of(text: str) -> str:
    """`dev` or `heldout`, fixed by the text (so regenerating keeps every sample's split)."""
    return "heldout" if hashlib.sha256(text.encode()).digest()[0] % 2 else "dev"


def fresh_rows(positive: list[str], negative: list[str]) -> list[dict[str, Any]]:
    """`fresh.py`'s samples; every third one of each split also fed as stream chunks."""
    rows = []
    for label, texts in ((1, positive), (0, negative)):
        for index, text in enumerate(texts):
            row: dict[str, Any] = {"text": text, "label": label, "kind": "fresh",
                                   "split": split_of(text)}
            if index % 3 == 0:
                row["chunks"] = split(text, random.Random(text))  # not R: the rest stays
            rows.append(row)
    return rows


FRESH = {
    "secrets": (fresh.SECRETS_POSITIVE, fresh.SECRETS_NEGATIVE),
    "pii": (fresh.PII_POSITIVE, fresh.PII_NEGATIVE),
    "injection": (fresh.INJECTION_ATTACK + fresh.INJECTION_ATTACK_2,
                  fresh.INJECTION_BENIGN + fresh.INJECTION_BENIGN_2),
}


def blind_rows() -> list[dict[str, Any]]:
    """`blind.py`'s injection samples, all in the `blind` split."""
    return [{"text": text, "label": label, "kind": "blind", "split": "blind"}
            for label, texts in ((1, blind.INJECTION_ATTACK), (0, blind.INJECTION_BENIGN))
            for text in texts]


def secrets_heldout_rows() -> list[dict[str, Any]]:
    """`secrets_heldout.py`'s generated samples, all `heldout`; every fourth fed as chunks."""
    chunking = random.Random(1617)
    return [{**row, "split": "heldout", **({"chunks": split(row["text"], chunking)}
                                           if index % 4 == 0 else {})}
            for index, row in enumerate(secrets_heldout.rows())]


def unseen_rows() -> list[dict[str, Any]]:
    """`unseen.py`'s injection samples, all in the `unseen` split."""
    return [{"text": text, "label": label, "kind": "unseen", "split": "unseen"}
            for label, texts in ((1, unseen.INJECTION_ATTACK), (0, unseen.INJECTION_BENIGN))
            for text in texts]


def main() -> None:
    for name, rows in (("secrets", secrets_corpus()), ("pii", pii_corpus()),
                       ("injection", injection_corpus())):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for row in [*({"split": "dev", **row} for row in rows), *fresh_rows(*FRESH[name]),
                        *(blind_rows() + unseen_rows() if name == "injection" else []),
                        *(secrets_heldout_rows() if name == "secrets" else [])]:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
