"""Issue 18 item 8: a database URL's password never reaches a message, an unsupported scheme is a
usage error naming the supported ones, and a duplicate key is reported without its values."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zonewarden.cli.common import EXIT_INPUT, EXIT_STORE
from zonewarden.cli.main import cli
from zonewarden.errors import ConflictError, InputError
from zonewarden.store.db import database_url, display_url, scrub


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:secret@h/db", "postgresql+psycopg://u:***@h/db"),
        ("postgresql+psycopg://u@h/db?password=secret", "postgresql+psycopg://u@h/db?password=***"),
        ("postgresql+psycopg://u:secret@h/db?sslmode=require&PASSWORD=secret",
         "postgresql+psycopg://u:***@h/db?PASSWORD=***&sslmode=require"),
        ("sqlite:///zw.db", "sqlite:///zw.db"),
    ],
)
def test_display_url_masks_every_password(url: str, shown: str) -> None:
    assert display_url(url) == shown
    assert "secret" not in display_url(url)


def test_scrub_removes_the_passwords_from_a_driver_message() -> None:
    url = "postgresql+psycopg://u:hunter2@h/db?password=s3cr3t"
    assert scrub("auth failed for hunter2 / s3cr3t", url) == "auth failed for *** / ***"


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "oracle://u:secret@h/db", "foo://x?password=secret"])
def test_an_unsupported_scheme_is_an_input_error_naming_the_supported_ones(url: str) -> None:
    with pytest.raises(InputError) as err:
        database_url(url)
    text = str(err.value)
    assert "sqlite" in text and "postgresql" in text and "secret" not in text


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("mysql://u:secret@h/db", EXIT_INPUT),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/db", EXIT_STORE),
        ("postgresql+psycopg://u@127.0.0.1:1/db?password=secret", EXIT_STORE),
    ],
)
def test_the_cli_never_prints_the_password(url: str, code: int) -> None:
    result = CliRunner().invoke(cli, ["sites", "--db", url])
    assert result.exit_code == code, result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if code == EXIT_INPUT:
        assert "sqlite, postgresql" in result.output


def test_a_duplicate_key_names_the_constraint_not_the_value(store) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (k TEXT PRIMARY KEY)")
    with pytest.raises(ConflictError) as err:
        with store.transaction() as conn:
            conn.exec_driver_sql("INSERT INTO probe VALUES ('secret-token')")
            conn.exec_driver_sql("INSERT INTO probe VALUES ('secret-token')")
    text = str(err.value)
    assert "secret" not in text and "probe" in text, text


def test_an_unexpected_database_error_does_not_echo_values(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy.exc import IntegrityError

    from zonewarden.cli.common import EXIT_INTERNAL, handle_errors

    @handle_errors
    def boom() -> None:
        raise IntegrityError("INSERT INTO users VALUES (?)", ("secret-name",),
                             Exception("DETAIL:  Key (name)=(secret-name) already exists."))

    with pytest.raises(SystemExit) as out:
        boom()
    assert out.value.code == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "secret" not in err and "internal error: IntegrityError" in err and "withheld" in err
