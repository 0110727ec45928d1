"""The `tidings` command for operators.

tidings serve        migrate, then run the web server with its worker and scheduler
tidings worker       run a background worker only (for other machines)
tidings createadmin  create the owner account and first workspace from the terminal
tidings mail-server  receive replies and space mail by SMTP (or LMTP with --lmtp)
tidings check        Django's system checks (add --deploy for production settings)
tidings <command>    any other Django management command
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from tidings.environment import ConfigurationError, env_int, env_port, env_str


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    import django

    django.setup()


def _prepare_database(verbose: bool = True) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def _print_setup_link_if_needed() -> None:
    # The command line is read before Django is set up: models load only once it is.
    from tidings.workspaces.actions import issue_setup_link_if_needed

    link = issue_setup_link_if_needed()
    if link:
        bar = "=" * 72
        print(
            f"\n{bar}\n  Tidings has no account yet. Open this one-time link to create the\n"
            f"  owner account and the first workspace:\n\n  {link}\n{bar}\n",
            flush=True,
        )


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tidings serve")
    parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=env_port("PORT", 8000))
    parser.add_argument(
        "--workers",
        type=int,
        default=env_int("WEB_WORKERS", 3, min=1),
        help="web worker processes (default 3)",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start the background worker (when workers run on other machines)",
    )
    args = parser.parse_args(argv)
    threads = env_int("WEB_THREADS", 4, min=1)
    # Links printed and mailed must point at this server unless SITE_URL says otherwise.
    host = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address
    os.environ.setdefault("SITE_URL", f"http://{host}:{args.port}")
    _setup_django()
    _prepare_database()
    _print_setup_link_if_needed()

    worker: subprocess.Popen | None = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "tidings", "worker"])

    from gunicorn.app.base import BaseApplication

    def stop_worker(*_: object) -> None:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()

    class TidingsServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", "-")
            self.cfg.set("on_exit", lambda _server: stop_worker())

        def load(self):  # noqa: ANN202
            # Gunicorn loads the application in each worker process, after forking.
            from tidings.wsgi import application

            return application

    print(f"Tidings is running on http://{args.host}:{args.port}/", flush=True)
    try:
        TidingsServer().run()
    finally:
        stop_worker()


def worker(argv: list[str]) -> None:
    _setup_django()
    from django.core.management import call_command

    call_command("run_huey", *argv)


def createadmin(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tidings createadmin")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--workspace", default="My team", help="name of the first workspace")
    parser.add_argument(
        "--password",
        default=env_str("TIDINGS_ADMIN_PASSWORD") or None,
        help="defaults to TIDINGS_ADMIN_PASSWORD, else asked for",
    )
    args = parser.parse_args(argv)
    _setup_django()
    _prepare_database(verbose=False)
    password = args.password
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    from django.core.exceptions import ValidationError

    # Models load only once Django is set up, after the command line is read.
    from tidings.workspaces.actions import create_owner_and_workspace

    try:
        owner, workspace = create_owner_and_workspace(
            email=args.email, name=args.name, password=password, workspace_name=args.workspace
        )
    except ValidationError as error:
        sys.exit("Could not create the account: " + " ".join(error.messages))
    print(f"Created {owner.email}, owner of “{workspace.name}”.")


def mail_server(argv: list[str]) -> None:
    _setup_django()
    from django.conf import settings

    parser = argparse.ArgumentParser(prog="tidings mail-server")
    parser.add_argument("--host", default=settings.MAIL_SERVER_HOST)
    parser.add_argument("--port", type=int, default=settings.MAIL_SERVER_PORT)
    parser.add_argument("--lmtp", action="store_true", help="speak LMTP (for Postfix)")
    args = parser.parse_args(argv)
    _prepare_database(verbose=False)
    from tidings.mail import receiver  # models load only once Django is set up

    receiver.run(args.host, args.port, lmtp=args.lmtp)


def main(argv: list[str] | None = None) -> None:
    try:
        dispatch(argv)
    except ConfigurationError as error:
        # A setting the operator can fix: one sentence, no traceback.
        sys.exit(f"Tidings cannot start: {error}")


def dispatch(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command == "serve":
        serve(rest)
    elif command == "worker":
        worker(rest)
    elif command == "createadmin":
        createadmin(rest)
    elif command == "mail-server":
        mail_server(rest)
    elif command in {"help", "-h", "--help"}:
        print(__doc__)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["tidings", command, *rest])
