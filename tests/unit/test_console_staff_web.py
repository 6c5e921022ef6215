"""Staff management in the console (admins only), on the real web app over SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bot.console.accounts import StaffError, add_staff, check_login, list_staff, remove_staff
from bot.storage.app_db import audit_log, staff
from tests.e2e.harness import running_web_app
from tests.unit.supporters_db import migrated_database

PASSWORD = "a long enough password"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("staff-web")
    with migrated_database(request.param, workdir) as url:
        engine = sa.create_engine(url)
        add_staff(engine, "amira", "admin", PASSWORD)
        add_staff(engine, "vic", "viewer", PASSWORD)
        with running_web_app(workdir, url) as web_url:
            yield web_url, engine
        engine.dispose()


class Browser:
    """A signed-in staff member's browser: keeps the cookie and reads each page's CSRF token."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.session = url, requests.Session()
        form = self.session.get(f"{url}/console/login", timeout=10)
        answer = self.session.post(
            f"{url}/console/login",
            data={"csrf_token": csrf_of(form.text), "name": name, "password": PASSWORD},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        self.csrf = csrf_of(answer.text)

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.url}{path}", timeout=10)

    def post(self, path: str, **fields: str) -> requests.Response:
        return self.session.post(f"{self.url}{path}", data={"csrf_token": self.csrf, **fields}, timeout=30)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def audit_actions(engine: sa.engine.Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        return [
            (r.actor, r.action, r.target) for r in connection.execute(sa.select(audit_log).order_by(audit_log.c.id))
        ]


def test_viewers_cannot_see_or_change_staff(web):
    url, engine = web
    viewer = Browser(url, "vic")
    assert viewer.get("/console/staff").status_code == 403
    assert 'href="/console/staff"' not in viewer.get("/console").text
    refused = viewer.post("/console/staff", name="sneaky", role="admin", password=PASSWORD)
    assert refused.status_code == 403
    assert "sneaky" not in [member.name for member in list_staff(engine)]
    assert requests.get(f"{url}/console/staff", allow_redirects=False, timeout=10).status_code == 303


def test_an_admin_adds_a_member_who_can_then_sign_in(web):
    url, engine = web
    admin = Browser(url, "amira")
    page = admin.get("/console/staff")
    assert page.status_code == 200 and "<td>vic</td><td>viewer</td>" in page.text
    assert admin.post("/console/staff", name="noor", role="viewer", password=PASSWORD).status_code == 200
    assert "<td>noor</td><td>viewer</td>" in admin.get("/console/staff").text
    assert check_login(engine, "noor", PASSWORD).member.role == "viewer"
    assert ("amira", "staff.add", "noor") in audit_actions(engine)


@pytest.mark.parametrize(
    ("name", "role", "password", "reason"),
    [
        ("short-pass", "viewer", "short", "at least 12 characters"),
        ("<script>x</script>", "viewer", PASSWORD, "a staff name is"),
        ("wizard", "superuser", PASSWORD, "the role must be one of"),
        ("vic", "viewer", PASSWORD, "already a staff member named"),
    ],
)
def test_bad_additions_are_refused_with_the_reason(web, name, role, password, reason):
    url, engine = web
    before = len(list_staff(engine))
    answer = Browser(url, "amira").post("/console/staff", name=name, role=role, password=password)
    assert answer.status_code == 400 and reason in answer.text
    assert "<script>x" not in answer.text
    assert len(list_staff(engine)) == before


def test_a_form_without_the_csrf_token_changes_nothing(web):
    url, engine = web
    admin = Browser(url, "amira")
    admin.csrf = "forged"
    assert admin.post("/console/staff", name="forged", role="admin", password=PASSWORD).status_code == 403
    assert admin.post("/console/staff/vic/remove").status_code == 403
    assert {"forged", "vic"} & {member.name for member in list_staff(engine)} == {"vic"}


def test_a_token_is_shown_once_and_works_for_the_api(web):
    url, engine = web
    page = Browser(url, "amira").post("/console/staff/vic/token")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    token = re.search(r'value="(ijm_[^"]+)"', page.text).group(1)
    me = requests.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.json() == {"name": "vic", "role": "viewer"}
    assert token not in Browser(url, "amira").get("/console/staff").text
    assert ("amira", "staff.token", "vic") in audit_actions(engine)
    assert Browser(url, "amira").post("/console/staff/nobody/token").status_code == 404


def test_an_admin_unlocks_a_locked_member(web):
    url, engine = web
    add_staff(engine, "locked-out", "viewer", PASSWORD)
    with engine.begin() as connection:
        connection.execute(
            staff.update()
            .where(staff.c.name == "locked-out")
            .values(locked_until=datetime.now(timezone.utc) + timedelta(minutes=10))
        )
    admin = Browser(url, "amira")
    assert "locked until" in admin.get("/console/staff").text
    assert check_login(engine, "locked-out", PASSWORD).member is None
    assert admin.post("/console/staff/locked-out/unlock").status_code == 200
    assert check_login(engine, "locked-out", PASSWORD).member is not None


def test_removing_asks_first_then_signs_the_member_out(web):
    url, engine = web
    add_staff(engine, "leaving", "viewer", PASSWORD)
    leaving = Browser(url, "leaving")
    admin = Browser(url, "amira")
    confirm = admin.get("/console/staff/leaving/remove")
    assert confirm.status_code == 200 and "Remove leaving?" in confirm.text
    assert "leaving" in {member.name for member in list_staff(engine)}  # asking removed nothing
    assert admin.post("/console/staff/leaving/remove").status_code == 200
    assert "leaving" not in {member.name for member in list_staff(engine)}
    assert leaving.get("/console").url.endswith("/console/login")
    assert ("amira", "staff.remove", "leaving") in audit_actions(engine)


def test_an_admin_cannot_remove_themselves_nor_the_last_admin(web):
    url, engine = web
    admin = Browser(url, "amira")
    answer = admin.post("/console/staff/amira/remove")
    assert answer.status_code == 400 and "can&#x27;t remove yourself" in answer.text
    add_staff(engine, "second-admin", "admin", PASSWORD)
    assert Browser(url, "second-admin").post("/console/staff/amira/remove").status_code == 200  # two: one may go
    with pytest.raises(StaffError, match="only admin"):
        remove_staff(engine, "second-admin", "console-test", keep_an_admin=True)
    assert [member.name for member in list_staff(engine) if member.is_admin] == ["second-admin"]
    add_staff(engine, "amira", "admin", PASSWORD)  # for the other tests of the module


def test_a_member_named_by_e_mail_address_is_reached_by_the_links_the_page_prints(web):
    url, engine = web
    add_staff(engine, "sam.lee@ijm.ca", "viewer", PASSWORD)
    admin = Browser(url, "amira")
    listing = admin.get("/console/staff").text
    remove_link = re.search(r'href="(/console/staff/sam\.lee[^"]*/remove)"', listing).group(1)
    assert "%40" in remove_link  # the page escapes the @; the route must read it back
    confirm = admin.get(remove_link)
    assert confirm.status_code == 200 and "Remove sam.lee@ijm.ca?" in confirm.text
    assert admin.post(remove_link).status_code == 200
    assert "sam.lee@ijm.ca" not in {member.name for member in list_staff(engine)}
