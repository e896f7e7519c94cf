"""`rotator schedule`: print a ready crontab line or a systemd service + timer pair.

The output runs `rotator report` for the current config with absolute paths (cron and systemd
start with a minimal environment and another working directory). Credentials are never
printed: the scheduled job reads them from an environment file the user creates (mode 600),
whose path is printed instead.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import click

from rotator.cli.options import config_option
from rotator.config.env import settings
from rotator.config.portfolio import default_config_path, load_portfolio
from rotator.errors import ConfigError

SERVICE = "rotator-report"


def rotator_command() -> list[str]:
    """Absolute command that starts this rotator: the script next to this Python, else -m."""
    beside = Path(sys.executable).parent / "rotator"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which("rotator")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "rotator"]


def env_file() -> Path:
    """Where the scheduled job reads credentials from: <user config dir>/env."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("rotator")) / "env"


def _time(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"--at: expected a time HH:MM (24-hour), got {text!r}")
    return int(match[1]), int(match[2])


def _job_needs(config: Path) -> tuple[list[str], bool]:
    """(credential variable names the job needs, whether its rules read market history)."""
    portfolio = load_portfolio(config)
    names = [env for a in portfolio.accounts for env in a.credential_envs().values()]
    delivery = portfolio.delivery
    for hook in delivery.webhooks:
        names += [n for n in (hook.url_env, hook.bot_token_env) if n]
    if delivery.email:
        names += [n for n in (delivery.email.username_env, delivery.email.password_env) if n]
    return list(dict.fromkeys(names)), portfolio.rules is not None


def crontab(
    command: list[str],
    hour: int,
    minute: int,
    envfile: Path,
    log: Path,
    before: list[str] | None = None,
) -> str:
    """One crontab line running the report daily at hour:minute (after `before`, if given).

    `before` (the history fetch) may fail without stopping the report: the report then says
    which inputs are stale.
    """
    source = f"set -a; [ -f {shlex.quote(str(envfile))} ] && . {shlex.quote(str(envfile))}; set +a"
    steps = [part for part in (before, command) if part]
    runs = "; ".join(
        f"{' '.join(shlex.quote(p) for p in step)} >> {shlex.quote(str(log))} 2>&1"
        for step in steps
    )
    return f"{minute} {hour} * * * {source}; {runs}"


def _systemd_quote(part: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", part):
        return part
    return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(
    command: list[str],
    hour: int,
    minute: int,
    envfile: Path,
    workdir: Path,
    before: list[str] | None = None,
) -> tuple[str, str]:
    """(service, timer) unit file texts for a daily `rotator report` (after `before`)."""
    exec_start = " ".join(_systemd_quote(p) for p in command)
    # "-": a failed history fetch does not stop the report, which then flags stale inputs.
    pre = f"ExecStartPre=-{' '.join(_systemd_quote(p) for p in before)}\n" if before else ""
    # Variables that locate rotator's files travel with the job when set (they hold no secret).
    extra = "".join(
        f"Environment={name}={_systemd_quote(value)}\n" for name, value in settings().locations
    )
    service = (
        "[Unit]\n"
        "Description=rotator daily report (dry-run rebalance suggestions; never trades)\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={_systemd_quote(str(workdir))}\n"
        f"EnvironmentFile=-{_systemd_quote(str(envfile))}\n"
        f"{extra}"
        f"{pre}"
        f"ExecStart={exec_start}\n"
        "# 3: report written but some data was missing; 5: written but delivery failed.\n"
        "SuccessExitStatus=3 5\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Run rotator report daily\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {hour:02d}:{minute:02d}:00\n"
        "Persistent=true\n"
        "RandomizedDelaySec=120\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return service, timer


@click.command()
@click.option("--cron", is_flag=True, help="Print a crontab line.")
@click.option("--systemd", is_flag=True, help="Print a service + timer pair.")
@config_option
@click.option("--at", "at", default="07:00", show_default=True, help="Daily time, HH:MM.")
def schedule(cron: bool, systemd: bool, config_path: Path | None, at: str) -> None:
    """Print a crontab line (--cron) or systemd units (--systemd) running the daily report."""
    if cron == systemd:
        raise click.UsageError("choose one of --cron or --systemd" + (", not both" if cron else ""))
    kind = "cron" if cron else "systemd"
    hour, minute = _time(at)
    config = (config_path or default_config_path()).absolute()
    names, reads_history = _job_needs(config)  # also validates the config: exit 2 when broken
    command = [*rotator_command(), "report", "--config", str(config)]
    # Rules read market history; CoinGecko's dominance history is paid-only, so the job records
    # each day itself before the report.
    before = [*rotator_command(), "history", "fetch", "--config", str(config)]
    before = before if reads_history else None
    envfile = env_file()
    needs = ", ".join(names) if names else "none for this config"
    header = (
        f"# rotator daily report at {hour:02d}:{minute:02d}. The job reads credentials from\n"
        f"# {envfile} (KEY=value lines, chmod 600); variables this config names: {needs}.\n"
        f"# Put ROTATOR_DB_URL there too if you use PostgreSQL.\n"
    )
    if kind == "cron":
        found = settings()
        env = "".join(f"{name}={shlex.quote(value)}\n" for name, value in found.locations)
        log = found.data_dir / "report.log"
        click.echo(header + "# Add with `crontab -e`:\n" + env, nl=False)
        click.echo(crontab(command, hour, minute, envfile, log, before))
        return
    service, timer = systemd_units(command, hour, minute, envfile, config.parent, before)
    unit_dir = "~/.config/systemd/user"
    click.echo(header, nl=False)
    click.echo(f"# {unit_dir}/{SERVICE}.service")
    click.echo(service)
    click.echo(f"# {unit_dir}/{SERVICE}.timer")
    click.echo(timer)
    click.echo(
        "# Then: systemctl --user daemon-reload && "
        f"systemctl --user enable --now {SERVICE}.timer\n"
        "# (and `loginctl enable-linger $USER` so it runs while you are logged out)"
    )
