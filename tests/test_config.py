"""Configuration: defaults, TOML file, environment; bad values are clear errors; secrets stay hidden."""

from __future__ import annotations

import pytest

from indikera.config import Settings, load_settings, redact_url


def test_defaults_without_file_or_env(tmp_path):
    s = load_settings(env={"INDIKERA_CONFIG": str(tmp_path / "none.toml")})
    assert s == Settings()
    assert s.logical_addresses == (s.reporting_system_hsa_id,)


def test_file_then_environment_wins(tmp_path):
    f = tmp_path / "indikera.toml"
    f.write_text('[indikera]\nreporting_system_hsa_id = "SE1-FILE"\naccepted_logical_addresses = ["A", "B"]\nsoap_max_depth = 10\n')
    s = load_settings(f, env={"INDIKERA_SOAP_MAX_DEPTH": "20"})
    assert s.reporting_system_hsa_id == "SE1-FILE"
    assert s.logical_addresses == ("A", "B")
    assert s.soap_max_depth == 20


def test_lists_from_environment_are_comma_separated():
    s = load_settings(env={"INDIKERA_TRUSTED_PROXIES": "127.0.0.1, ::1 ,"})
    assert s.trusted_proxies == ("127.0.0.1", "::1")


@pytest.mark.parametrize(
    "content, message",
    [('nonsense_key = 1\n', "unknown setting 'nonsense_key'"), ('soap_max_depth = "deep"\n', "not a whole number")],
)
def test_bad_file_is_a_clear_error(tmp_path, content, message):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_settings(f, env={})


def test_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml", env={})


def test_secrets_never_in_repr():
    s = Settings(admin_tokens=("ops:s3cret-token",), database_url="postgresql+psycopg://u:pw123@h/db")
    text = repr(s)
    assert "s3cret-token" not in text and "pw123" not in text
    assert redact_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
