#!/usr/bin/env python3
"""Login cards for a cohort: HTML and PDF (several cards per A4 page, ready to
cut) and the trainer's logins files (JSONL and CSV, 0600: they hold passwords).

Input (JSON on stdin, from playbooks/cards.yml; it carries no password):
  {"cohort": str, "lang": "fr"|"en", "title": str, "qr": bool, "logo": path|"",
   "clusters": [{"cluster": "01", "address": "203.0.113.5",
                 "links": [{"label": "podinfo", "port": 31198, "path": "/"}, ...],
                 "password_login": bool, "learners": [{"name", "email"?, "ssh_public_key"?}]}]}
"links" are the enabled labs' links, from their roles' meta/lab.yml rendered
with the cohort's variables (playbooks/cards.yml). A learner without an SSH
key logs in with their password (learner_access allows it for them), so their
card prints it; with "password_login" every card does.
Passwords are read from <secrets>/<name>.password ("<password> salt=<salt>",
written by the learner_access role). Nothing is fetched from the network:
WeasyPrint gets no base URL and the fonts are the system's (DejaVu); the
optional logo is a local file embedded in the page, the optional QR code (the
card's ssh:// address, never the password) is drawn here by segno.
"""

from __future__ import annotations

import argparse
import base64
import csv
import html
import json
import os
import sys
import time
from pathlib import Path

import segno
from weasyprint import HTML

# Every string a card prints, per language: add a language by adding a key.
STRINGS = {
    "en": {
        "title": "Kubernetes workshop",
        "cohort": "Cohort",
        "cluster": "Cluster",
        "host": "Login host",
        "user": "User",
        "password": "Password",
        "use_key": "use your SSH key",
        "ssh": "Connect",
        "labs": "Lab pages",
    },
    "fr": {
        "title": "Atelier Kubernetes",
        "cohort": "Session",
        "cluster": "Cluster",
        "host": "Machine de connexion",
        "user": "Utilisateur",
        "password": "Mot de passe",
        "use_key": "utilisez votre clé SSH",
        "ssh": "Connexion",
        "labs": "Pages des TP",
    },
}
CARDS_PER_PAGE = 8  # 2 columns x 4 rows on A4
CARDS_PER_PAGE_WITH_QR = 6  # 2 x 3: room for the QR code under the text

CSS = """
@page { size: A4; margin: 8mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; margin: 0; }
.page { display: grid; grid-template-columns: 1fr 1fr; grid-auto-rows: 69mm;
        gap: 0; page-break-after: always; }
.page:last-child { page-break-after: auto; }
.card { border: 0.4pt dashed #888; padding: 4mm 5mm; overflow: hidden; }
.card h1 { font-size: 11pt; margin: 0 0 1.5mm 0; color: #1a4d8f; }
.meta { color: #555; margin-bottom: 2mm; }
table { border-collapse: collapse; width: 100%; }
td { padding: 0.6mm 0; vertical-align: top; }
td.k { color: #555; width: 30mm; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
.secret { font-weight: bold; font-size: 10.5pt; }
ul { margin: 0; padding-left: 4mm; }
.card { position: relative; }
.logo { position: absolute; top: 3mm; right: 4mm; max-height: 9mm; max-width: 30mm; }
.qr { position: absolute; bottom: 3mm; right: 4mm; width: 20mm; height: 20mm; }
.with-qr { grid-auto-rows: 92mm; }  /* the QR code goes under the text */
li .mono { white-space: nowrap; font-size: 8.5pt; }
"""


def read_password(secrets: Path, name: str) -> str:
    path = secrets / f"{name}.password"
    if not path.is_file():
        raise SystemExit(
            f"cards: no stored password for learner '{name}' ({path}); "
            "run the access stage first (--tags access)"
        )
    return path.read_text().strip().split(" salt=")[0]


def card_data(spec: dict, secrets: Path) -> list[dict]:
    cards = []
    for cluster in spec["clusters"]:
        address = cluster["address"]
        urls = [
            (str(link["label"]), f"http://{address}:{int(link['port'])}{link.get('path') or '/'}")
            for link in cluster.get("links", [])
        ]
        for learner in cluster["learners"]:
            name = learner["name"]
            has_key = bool(learner.get("ssh_public_key"))
            password_login = bool(cluster.get("password_login")) or not has_key
            cards.append(
                {
                    "cohort": spec["cohort"],
                    "cluster": cluster["cluster"],
                    "host": address,
                    "user": name,
                    "email": learner.get("email", ""),
                    "password": read_password(secrets, name) if password_login else "",
                    "ssh_key": has_key,
                    "ssh": f"ssh {name}@{address}",
                    "ssh_uri": f"ssh://{name}@{address}",
                    "urls": urls,
                }
            )
    return cards


LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


def logo_data_uri(path: str) -> str:
    """The trainer's logo as a data: URI (rendering never opens a URL)."""
    if not path:
        return ""
    logo = Path(path)
    mime = LOGO_TYPES.get(logo.suffix.lower())
    if mime is None:
        raise SystemExit(
            f"cards: logo '{path}' is not an image file (allowed: {', '.join(LOGO_TYPES)})"
        )
    if not logo.is_file():
        raise SystemExit(f"cards: logo '{path}' does not exist")
    return f"data:{mime};base64,{base64.b64encode(logo.read_bytes()).decode()}"


def qr_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(border=0)


def render_html(
    cards: list[dict], lang: str, title: str | None, *, qr: bool = False, logo: str = ""
) -> str:
    t = STRINGS[lang]
    e = html.escape
    logo_img = f'<img class="logo" alt="" src="{logo}">' if logo else ""
    per_page = CARDS_PER_PAGE_WITH_QR if qr else CARDS_PER_PAGE
    pages = []
    for start in range(0, len(cards), per_page):
        cells = []
        for card in cards[start : start + per_page]:
            secret = (
                f'<span class="mono secret">{e(card["password"])}</span>'
                if card["password"]
                else e(t["use_key"])
            )
            urls = "".join(
                f'<li>{e(label)}: <span class="mono">{e(url)}</span></li>'
                for label, url in card["urls"]
            )
            qr_img = f'<img class="qr" alt="" src="{qr_data_uri(card["ssh_uri"])}">' if qr else ""
            cells.append(
                f'<div class="card">{logo_img}{qr_img}<h1>{e(title or t["title"])}</h1>'
                f'<div class="meta">{e(t["cohort"])} {e(card["cohort"])} · '
                f"{e(t['cluster'])} {e(card['cluster'])}</div><table>"
                f'<tr><td class="k">{e(t["host"])}</td><td class="mono">{e(card["host"])}</td></tr>'
                f'<tr><td class="k">{e(t["user"])}</td>'
                f'<td class="mono secret">{e(card["user"])}</td></tr>'
                f'<tr><td class="k">{e(t["password"])}</td><td>{secret}</td></tr>'
                f'<tr><td class="k">{e(t["ssh"])}</td><td class="mono">{e(card["ssh"])}</td></tr>'
                + (
                    f'<tr><td class="k">{e(t["labs"])}</td><td><ul>{urls}</ul></td></tr>'
                    if urls
                    else ""
                )
                + "</table></div>"
            )
        page_class = "page with-qr" if qr else "page"
        pages.append(f'<section class="{page_class}">{"".join(cells)}</section>')
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{e(title or t['title'])}</title><style>{CSS}</style></head>"
        f"<body>{''.join(pages)}</body></html>"
    )


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_logins(cards: list[dict], out: Path) -> None:
    fields = ["cohort", "cluster", "host", "user", "email", "password", "ssh"]
    write_private(
        out / "logins.jsonl",
        "".join(json.dumps({k: card[k] for k in fields}) + "\n" for card in cards),
    )
    fd = os.open(out / "logins.csv", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(cards)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=Path, required=True, help="folder of <name>.password")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    spec = json.load(sys.stdin)
    lang = spec.get("lang", "en")
    if lang not in STRINGS:
        raise SystemExit(f"cards: lang '{lang}' is not known (allowed: {', '.join(STRINGS)})")
    started = time.monotonic()
    cards = card_data(spec, args.secrets)
    args.out.mkdir(parents=True, exist_ok=True)
    os.chmod(args.out, 0o700)  # the cards print passwords
    logo = logo_data_uri(spec.get("logo", ""))
    page = render_html(cards, lang, spec.get("title"), qr=bool(spec.get("qr")), logo=logo)
    write_private(args.out / "cards.html", page)
    pdf = HTML(string=page).write_pdf()
    fd = os.open(args.out / "cards.pdf", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pdf)
    write_logins(cards, args.out)
    pages = -(-len(cards) // (CARDS_PER_PAGE_WITH_QR if spec.get("qr") else CARDS_PER_PAGE))
    elapsed = time.monotonic() - started
    print(f"{len(cards)} cards, {pages} pages, {elapsed:.2f} s: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
