"""``zonewarden alerts``: subscribe, list, test and remove through the CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli


def test_alerts_subscribe_list_test_remove(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    got: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            got.append(envelope.content)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    db = f"sqlite:///{tmp_path / 'z.db'}"
    env = {"ZONEWARDEN_ACTOR": "ann", "ZONEWARDEN_SMTP_HOST": "127.0.0.1", "ZONEWARDEN_SMTP_PORT": str(port)}
    runner = CliRunner()
    try:
        made = runner.invoke(cli, ["alerts", "subscribe", "--email", "ann@plant.example", "--event", "finding",
                                   "--min-priority", "out-of-cycle", "--format", "json", "--db", db], env=env)
        assert made.exit_code == 0, made.output
        sub = json.loads(made.stdout)
        assert sub["events"] == ["finding"] and "secret" not in sub
        hook = runner.invoke(cli, ["alerts", "subscribe", "--webhook", "https://hooks.example/zw", "--db", db], env=env)
        assert hook.exit_code == 0 and len(hook.stdout.strip()) >= 40  # the key, printed once
        listed = runner.invoke(cli, ["alerts", "list", "--format", "json", "--db", db], env=env)
        subs = json.loads(listed.stdout)["subscriptions"]
        assert [s["channel"] for s in subs] == ["email", "webhook"] and all("secret" not in s for s in subs)
        assert hook.stdout.strip() not in listed.stdout
        tested = runner.invoke(cli, ["alerts", "test", str(sub["id"]), "--db", db], env=env)
        assert tested.exit_code == 0, tested.output
        assert len(got) == 1 and b"Test alert for subscription" in got[0]
        bad = runner.invoke(cli, ["alerts", "subscribe", "--email", "not-an-address", "--db", db], env=env)
        assert bad.exit_code == 2 and "not an e-mail address" in bad.output
        both = runner.invoke(cli, ["alerts", "subscribe", "--db", db], env=env)
        assert both.exit_code == 2 and "exactly one of" in both.output
        removed = runner.invoke(cli, ["alerts", "remove", str(sub["id"]), "--db", db], env=env)
        assert removed.exit_code == 0
        gone = runner.invoke(cli, ["alerts", "remove", str(sub["id"]), "--db", db], env=env)
        assert gone.exit_code != 0 and "no alert subscription" in gone.output
    finally:
        controller.stop()
