"""Configuration: defaults, TOML file, environment; bad values are clear errors; secrets stay hidden."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from indikera import config_loader
from indikera.config import Settings, load_settings, redact_url
from indikera.config_loader import ConfigError
from indikera.platform import environments
from indikera.platform import settings as platform_settings


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


# --- the one loader (config_loader), shared by Settings, PlatformSettings and the connection profiles ---


def _bilingual(exc: ConfigError) -> str:
    text = str(exc)
    assert text == f"{exc.sv}. ({exc.en}.)"  # Svenska. (English.)
    return text


def test_precedence_default_then_file_then_environment(tmp_path):
    f = tmp_path / "indikera.toml"
    f.write_text('soap_max_depth = 10\nsoap_max_request_bytes = 2000\nbase_url = "https://file.example"\n')
    s = load_settings(f, env={"INDIKERA_SOAP_MAX_DEPTH": "20", "INDIKERA_LANGUAGE": "en"})
    assert (s.soap_max_depth, s.soap_max_request_bytes, s.base_url, s.language) == (20, 2000, "https://file.example", "en")
    assert s.default_display_threshold == Settings().default_display_threshold  # untouched: the default
    # INDIKERA_CONFIG names the file when no path is given
    assert load_settings(env={"INDIKERA_CONFIG": str(f)}).soap_max_depth == 10


def test_unknown_name_in_the_file_is_an_error_naming_it(tmp_path):
    f = tmp_path / "indikera.toml"
    f.write_text('[indikera]\nsoap_max_dephth = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(f, env={})
    text = _bilingual(caught.value)
    assert "okänd inställning 'soap_max_dephth'" in text and "unknown setting 'soap_max_dephth'" in text
    assert str(f) in text and "did you mean 'soap_max_depth'" in text


def test_unknown_variable_in_the_environment_is_an_error_naming_it(tmp_path):
    env = {"INDIKERA_CONFIG": str(tmp_path / "none.toml"), "INDIKERA_SOAP_MAX_DEPHT": "3"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    text = _bilingual(caught.value)
    assert "miljövariabeln INDIKERA_SOAP_MAX_DEPHT" in text and "environment variable INDIKERA_SOAP_MAX_DEPHT" in text
    assert "INDIKERA_SOAP_MAX_DEPTH" in text.split("did you mean", 1)[1]


def test_variables_of_other_parts_are_not_settings(tmp_path):
    env = {"INDIKERA_CONFIG": str(tmp_path / "none.toml"), "INDIKERA_CONNECTION_PROFILES": "p.toml",
           "INDIKERA_TEST_PG_DSN": "postgresql://x", "INDIKERA_VENV": ".venv", "PATH": "/bin", "INDIKERAX": "1"}
    assert load_settings(env=env) == Settings()


@pytest.mark.parametrize("where", ["file", "env"])
def test_a_wrong_type_names_the_setting_and_the_source(tmp_path, where):
    f = tmp_path / "indikera.toml"
    f.write_text('soap_max_depth = "deep"\n' if where == "file" else "")
    with pytest.raises(ConfigError) as caught:
        load_settings(f, env={"INDIKERA_SOAP_MAX_DEPTH": "deep"} if where == "env" else {})
    text = _bilingual(caught.value)
    assert "soap_max_depth = 'deep' är inte ett heltal" in text and "is not a whole number" in text
    source = f"filen {f}" if where == "file" else "miljövariabeln INDIKERA_SOAP_MAX_DEPTH"
    assert text.startswith(source)


@dataclasses.dataclass(frozen=True)
class _Every:
    flag: bool = False
    count: int = 1
    seconds: float = 1.0
    text: str = ""
    file: Path | None = None
    port: int | None = None
    items: tuple[str, ...] = ()
    table: dict[str, float] = dataclasses.field(default_factory=dict)


@pytest.mark.parametrize("name, raw, expected", [
    ("flag", "yes", True), ("flag", " FALSE ", False), ("flag", True, True), ("flag", "0", False),
    ("count", "42", 42), ("count", 7, 7), ("count", 8.0, 8),
    ("seconds", "2.5", 2.5), ("seconds", 3, 3.0),
    ("text", "x", "x"), ("text", 5, "5"),
    ("file", "a/b.pem", Path("a/b.pem")), ("file", "", None),
    ("port", "", None), ("port", "8080", 8080),
    ("items", "a, b,,c ", ("a", "b", "c")), ("items", ["a", " b ", ""], ("a", "b")),
    ("table", {"urn:x": 5}, {"urn:x": 5.0}), ("table", "urn:x=5, urn:y=1.5", {"urn:x": 5.0, "urn:y": 1.5}),
    ("table", {}, {}),
])
def test_each_kind_is_read(name, raw, expected):
    assert config_loader.coerce(_Every, name, raw, config_loader.Source.file("t.toml")) == expected


@pytest.mark.parametrize("name, raw", [
    ("flag", "maybe"), ("flag", 2), ("count", "ten"), ("count", 1.5), ("count", True), ("seconds", "nan"),
    ("seconds", "x"), ("text", ["a"]), ("text", True), ("file", 5), ("items", 5), ("items", [["a"]]),
    ("table", {"a": "b"}), ("table", "a"), ("table", 5),
])
def test_each_kind_refuses_a_wrong_value(name, raw):
    with pytest.raises(ConfigError) as caught:
        config_loader.coerce(_Every, name, raw, config_loader.Source.variable("X_" + name.upper()))
    text = _bilingual(caught.value)
    assert text.startswith(f"miljövariabeln X_{name.upper()}: {name} = ") and f"environment variable X_{name.upper()}" in text


def test_platform_settings_use_the_same_loader(tmp_path):
    f = tmp_path / "vp.toml"
    f.write_text('[platform]\nport = 9443\nthrow_vp013 = "true"\nread_timeout = 5\nip_whitelist = "10.0.0., 127.0.0.1"\n'
                 'contract_timeouts = {"urn:a" = 3}\ntls_cert = "c.pem"\n')
    s = platform_settings.load(f)
    assert (s.port, s.throw_vp013, s.read_timeout, s.ip_whitelist) == (9443, True, 5.0, ("10.0.0.", "127.0.0.1"))
    assert s.timeout_for("urn:a") == 3.0 and s.tls_cert == Path("c.pem") and s.instance_name == "NTjP"
    f.write_text('[platform]\nport = "high"\n')
    with pytest.raises(ConfigError, match=r"port = 'high' är inte ett heltal.*\[platform\]"):
        platform_settings.load(f)
    f.write_text('porrt = 1\n')
    with pytest.raises(ConfigError, match="unknown setting 'porrt'; did you mean 'port'"):
        platform_settings.load(f)


def test_connection_profiles_use_the_same_loader(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[environments.sit]\nconsumers = 5\n')
    with pytest.raises(ConfigError) as caught:
        environments.load(f)
    assert "[environments.sit]: consumers = 5 är inte en lista" in _bilingual(caught.value)
    f.write_text('[environments.sit]\nname = "other"\n')  # the table's name is the environment's name
    with pytest.raises(ConfigError, match="unknown setting 'name'"):
        environments.load(f)
