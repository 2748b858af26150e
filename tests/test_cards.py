"""Login cards: a 60-learner cohort renders to HTML + PDF (8 cards per A4
page) and logins files, all 0600, through playbooks/cards.yml on the cohort
inventory; the PDF's text shows every learner's card, the playbook's output
shows no password."""

from __future__ import annotations

import json
import secrets
import shutil
import stat
import string
import subprocess
import sys
import time

import pytest
import segno
from conftest import run
from pypdf import PdfReader

LEARNERS = 60


def make_cohort(tmp_path, cohort_vars):
    folder = tmp_path / "k8s-test"
    folder.mkdir()
    learners = [f"learner{i:02d}" for i in range(1, LEARNERS + 1)]
    learners[1] = {"name": "learner02", "ssh_public_key": "ssh-ed25519 AAAAC3Nz test"}
    (folder / "cohort.yml").write_text(
        json.dumps(
            {
                "plugin": "atelier.kube.cohort",
                "cohort": "k8s-test",
                "cloud": "none",
                "learners": learners,
                "labs": ["autoscaling"],
                "vars": cohort_vars,
            }
        )
    )
    store = folder / "secrets" / "learners"
    store.mkdir(parents=True)
    alphabet = string.ascii_letters + string.digits
    passwords = {}
    for i in range(1, LEARNERS + 1):
        name = f"learner{i:02d}"
        passwords[name] = "".join(secrets.choice(alphabet) for _ in range(16))
        (store / f"{name}.password").write_text(f"{passwords[name]} salt=abcdefgh12345678")
    return folder, passwords


@pytest.fixture
def cohort(tmp_path):
    # The podinfo NodePort overridden: the card prints the lab's actual port.
    return make_cohort(
        tmp_path,
        {"learner_access_password_login": True, "lab_autoscaling_podinfo_node_port": 30555},
    )


def run_cards(folder, **extra_vars):
    extra_vars["ansible_python_interpreter"] = sys.executable
    command = ["ansible-playbook", "-i", str(folder), "playbooks/cards.yml"]
    return run([*command, "-e", json.dumps(extra_vars)], timeout=600)


def test_sixty_learner_cards(cohort):
    folder, passwords = cohort
    started = time.monotonic()
    result = run_cards(folder, cards_lang="fr")
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    print(f"cards.yml for {LEARNERS} learners: {elapsed:.1f} s")
    for password in passwords.values():
        assert password not in output
    out = folder / "artifacts" / "cards"
    for name in ("cards.html", "cards.pdf", "logins.jsonl", "logins.csv"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    reader = PdfReader(out / "cards.pdf")
    assert len(reader.pages) == LEARNERS // 8 + 1  # 8 cards per page
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.count("Mot de passe") == LEARNERS
    for name, password in passwords.items():
        assert f"ssh {name}@" in text
        assert password in text
    # The enabled lab's links, from its declaration: the override, not the default.
    assert ":30555/" in text and ":31190/" in text and ":31198/" not in text
    assert "JupyterHub" not in text
    logins = [json.loads(line) for line in (out / "logins.jsonl").read_text().splitlines()]
    assert [entry["password"] for entry in logins] == list(passwords.values())
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", out / "cards.pdf", out / "p"],
            check=True,
        )
        assert next(out.glob("p*.png")).stat().st_size > 10_000


def test_missing_password_names_the_learner(cohort):
    folder, _ = cohort
    (folder / "secrets" / "learners" / "learner07.password").unlink()
    result = run_cards(folder)
    assert result.returncode != 0
    assert "learner07" in result.stdout + result.stderr
    assert "--tags access" in result.stdout + result.stderr


def test_qr_code_and_logo_are_drawn_from_local_data(cohort, tmp_path):
    folder, _ = cohort
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="90" height="30">'
        '<rect width="90" height="30" fill="#1a4d8f"/></svg>'
    )
    result = run_cards(folder, cards_qr=True, cards_logo=str(logo), cards_title="Atelier K8s")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (folder / "artifacts" / "cards" / "cards.html").read_text()
    # One QR per card, of the learner's ssh:// address (the password is never encoded).
    assert page.count('class="qr"') == LEARNERS and page.count('class="logo"') == LEARNERS
    logins = (folder / "artifacts" / "cards" / "logins.jsonl").read_text().splitlines()
    for entry in map(json.loads, logins):
        user_at_host = entry["ssh"].removeprefix("ssh ")
        assert segno.make(f"ssh://{user_at_host}", error="m").svg_data_uri(border=0) in page
    pdf = PdfReader(folder / "artifacts" / "cards" / "cards.pdf")
    assert len(pdf.pages) == LEARNERS // 6  # 6 cards per page with a QR code
    # The logo is embedded, not linked.
    assert "data:image/svg+xml;base64," in page and str(logo) not in page


def test_logo_that_is_not_an_image_is_refused(cohort, tmp_path):
    folder, _ = cohort
    result = run_cards(folder, cards_logo=str(tmp_path / "missing.png"))
    assert result.returncode != 0
    assert (
        "cards_logo: '" in result.stdout
        and "missing.png' is not a local image file" in result.stdout
    )


def test_without_password_login_only_learners_without_a_key_get_their_password(tmp_path):
    folder, passwords = make_cohort(tmp_path, {})
    result = run_cards(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    logins = {
        entry["user"]: entry
        for entry in map(
            json.loads, (folder / "artifacts/cards/logins.jsonl").read_text().splitlines()
        )
    }
    # learner02 has a key: no password login for them, the card says to use it.
    assert logins["learner02"]["password"] == ""
    assert all(logins[n]["password"] == p for n, p in passwords.items() if n != "learner02")
    page = (folder / "artifacts" / "cards" / "cards.html").read_text()
    assert page.count("use your SSH key") == 1
