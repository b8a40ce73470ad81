"""The `tessera` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import uvicorn

from catalog import InvalidDataset, read_dataset
from catalog import load_dataset as write_dataset
from db import transaction

from ._runtime import Runtime
from ._secrets import new_vapid_key_pair
from .app import create_app
from .settings import Settings

__all__ = ["main"]


async def _load(runtime: Runtime, path: Path) -> None:
    dataset = read_dataset(path)
    await runtime.start()
    async with transaction(runtime.sessions) as session:
        report = await write_dataset(session, dataset, now=runtime.clock.now())
    print(
        f"Loaded {path}:\n"
        f"  libraries: {report.libraries}\n  records: {report.records}\n"
        f"  items: {report.items}\n  patrons: {report.patrons}"
    )


def _command_load(settings: Settings, arguments: argparse.Namespace) -> int:
    async def run() -> None:
        runtime = Runtime.from_settings(settings)
        try:
            await _load(runtime, arguments.file)
        finally:
            await runtime.close()

    asyncio.run(run())
    return 0


def _command_serve(settings: Settings, arguments: argparse.Namespace) -> int:
    async def run() -> None:
        runtime = Runtime.from_settings(settings)
        if arguments.dataset is not None:
            try:
                await _load(runtime, arguments.dataset)
            finally:
                # The server opens its own connections in its own lifespan.
                await runtime.engine.dispose()
        config = uvicorn.Config(
            create_app(runtime),
            host=arguments.host,
            port=arguments.port,
            log_level="info",
            proxy_headers=True,
        )
        server = uvicorn.Server(config)
        print(f"Tessera is serving on http://{arguments.host}:{arguments.port}/", flush=True)
        await server.serve()

    asyncio.run(run())
    return 0


def _command_vapid_keys(_settings: Settings, _arguments: argparse.Namespace) -> int:
    private, public = new_vapid_key_pair()
    print(f"TESSERA_VAPID_PRIVATE_KEY={private}")
    print(f"# public key (applicationServerKey): {public}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve GraphQL at /graphql and the PWA at /")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dataset", type=Path, help="load this dataset first")
    serve.set_defaults(handler=_command_serve)

    load = commands.add_parser("load", help="load a dataset (JSON) into the database")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_command_load)

    vapid = commands.add_parser("vapid-keys", help="print a new VAPID key pair")
    vapid.set_defaults(handler=_command_vapid_keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = Settings()
    try:
        return int(arguments.handler(settings, arguments))
    except InvalidDataset as error:
        print(f"tessera: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
