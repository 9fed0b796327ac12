"""`[auth.oidc]` at load and at start, and the rules that turn claims into a user: PKCE's
S256 against RFC 7636's own example, roles from nested or single-valued claims."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.accounts.sso.flow import code_challenge
from app.accounts.sso.identity import identity_from
from app.core.config import ConfigError, load_config
from app.core.secrets import configured_secrets

OIDC = """[auth.oidc]
issuer = "https://login.example.com/realms/acme/"
client_id = "webcare"
client_secret_env = "TEST_OIDC_SECRET"
roles = { "webcare-admins" = "admin", "webcare-agents" = "responder" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webcare.toml"
    path.write_text(text)
    return path


def test_the_oidc_table_loads_with_its_defaults(tmp_path):
    oidc = load_config(write(tmp_path, OIDC)).auth.oidc
    assert oidc.issuer == "https://login.example.com/realms/acme"  # compared without the trailing slash
    assert oidc.scopes == ("openid", "profile", "email") and oidc.roles_claim == "groups"
    assert oidc.allow_password_login is True and oidc.teams_claim is None
    assert load_config(write(tmp_path, "")).auth.oidc is None


@pytest.mark.parametrize(("extra", "expected"), [
    ('scopes = ["profile"]\n', '[auth].oidc.scopes: must include "openid"'),
    ('allow_passwords = false\n', "[auth].oidc.allow_passwords: unknown key"),
])
def test_a_bad_oidc_table_is_named(tmp_path, extra, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, OIDC + extra))
    assert expected in str(err.value)


def test_an_unknown_role_is_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, OIDC.replace('"responder"', '"superuser"')))
    assert "[auth].oidc.roles: unknown role(s) superuser; choose from responder, lead, admin" in str(err.value)


def test_a_provider_on_a_private_address_needs_allow_private_networks(tmp_path):
    text = OIDC.replace("https://login.example.com/realms/acme/", "http://127.0.0.1:8080/realms/acme")
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert "[auth.oidc].issuer:" in str(err.value) and "allow_private_networks" in str(err.value)
    assert load_config(write(tmp_path, "[app]\nallow_private_networks = true\n\n" + text)).auth.oidc


def test_serve_refuses_to_start_without_the_client_secret(tmp_path):
    path = write(tmp_path, OIDC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBCARE_", "TEST_"))}
    env.update(WEBCARE_CONFIG=str(path), WEBCARE_DATA_DIR=str(tmp_path), WEBCARE_SECRET_KEY="s" * 40)
    r = subprocess.run([str(Path(sys.executable).parent / "webcare"), "serve", "--no-migrate"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "[auth.oidc].client_secret_env: environment variable TEST_OIDC_SECRET is not set" in r.stderr


def test_the_client_secret_is_redacted_like_every_secret(tmp_path):
    config = load_config(write(tmp_path, OIDC))
    assert "the-client-secret" in configured_secrets(config, environ={"TEST_OIDC_SECRET": "the-client-secret"})


def test_the_pkce_challenge_is_rfc_7636s_example():
    # RFC 7636, Appendix B.
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_highest_mapped_role_wins_and_nested_claims_are_found(tmp_path):
    text = OIDC + 'roles_claim = "realm_access.roles"\nteams_claim = "groups"\nusername_claim = "upn"\n'
    oidc = load_config(write(tmp_path, text)).auth.oidc
    claims = {"sub": "f:1", "upn": "anna@acme.nl", "name": "Anna",
              "realm_access": {"roles": ["webcare-agents", "webcare-admins", "offline_access"]},
              "groups": ["billing", 7]}
    who = identity_from(oidc, oidc.issuer, claims)
    assert (who.role, who.username, who.teams, who.subject) == ("admin", "anna@acme.nl", ["billing"],
                                                                f"{oidc.issuer} f:1")
    # A single string claim (Google's "hd", the account's domain) maps as well.
    google = load_config(write(tmp_path, OIDC.replace('{ "webcare-admins" = "admin", "webcare-agents" = '
                                                      '"responder" }', '{ "acme.nl" = "responder" }')
                               + 'roles_claim = "hd"\n')).auth.oidc
    assert identity_from(google, google.issuer, {"sub": "1", "hd": "acme.nl", "email": "a@acme.nl"}).role == \
        "responder"
    assert identity_from(google, google.issuer, {"sub": "1", "hd": "other.nl"}).role is None
    # No usable name claim: the subject.
    assert identity_from(oidc, oidc.issuer, {"sub": "only the subject"}).username == "only_the_subject"
