"""The ``zonewarden`` command. Each command group lives in its own module and is added here."""

from __future__ import annotations

import importlib

import click

from zonewarden import __version__

# Command modules: each exposes ``commands`` (a list of click commands/groups).
COMMAND_MODULES = [
    "zonewarden.cli.sites",
    "zonewarden.cli.audit",
    "zonewarden.cli.check",
    "zonewarden.cli.report",
    "zonewarden.cli.gap",
    "zonewarden.cli.risk",
    "zonewarden.cli.patch",
    "zonewarden.cli.edit",
    "zonewarden.cli.advisories",
    "zonewarden.cli.inventory",
    "zonewarden.cli.psirt",
    "zonewarden.cli.identity",
    "zonewarden.cli.signatures",
    "zonewarden.cli.waivers",
    "zonewarden.cli.serve",
    "zonewarden.cli.db",
    "zonewarden.cli.worker",
    "zonewarden.cli.alerts",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="zonewarden")
@click.option("--debug", is_flag=True, envvar="ZONEWARDEN_DEBUG",
              help="Show the traceback of an unexpected error (exit code 70) [env ZONEWARDEN_DEBUG].")
def cli(debug: bool) -> None:
    """zonewarden: IEC 62443 cybersecurity management for OT plants.

    \b
    Example (the bundled example plant):
      zonewarden import examples/pharma-plant
      zonewarden check
      zonewarden diagram -o plant.svg

    Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 findings at or over
    --fail-on (or overdue items), 2 bad input or usage, 3 database problem, 4 installation
    problem (packaged data, Graphviz), 5 output refused by a safety check (a bug), 70 an
    unexpected error (a bug; --debug shows the traceback).
    """


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command module that is not written yet
                continue
            raise
        for command in module.commands:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="zonewarden")


if __name__ == "__main__":
    main()
