"""The `tessera` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from catalog import (
    ImportProgress,
    InvalidDataset,
    MarcImportReport,
    SkipLog,
    UnknownLibrary,
    UnreadableMarcFile,
    import_marc,
    read_dataset,
)
from catalog import load_dataset as write_dataset
from circulation import InvalidPolicy
from db import transaction
from schema import schema as graphql_schema

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
    runtime.circulation.forget_libraries()
    await runtime.indexer.catch_up()
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
            create_app(runtime, worker=not arguments.no_worker),
            host=arguments.host,
            port=arguments.port,
            log_level="info",
            proxy_headers=True,
        )
        server = uvicorn.Server(config)
        print(f"Tessera is serving on http://{arguments.host}:{arguments.port}/", flush=True)
        # What exists now (modules, the schema, the ORM's mappers) lives as long as the process:
        # frozen, the cyclic collector stops walking it at every collection of the requests'
        # garbage (ScanIsbn at 32 concurrent requests: about 15 % more per second).
        gc.collect()
        gc.freeze()
        await server.serve()

    asyncio.run(run())
    return 0


@contextmanager
def _progress_bar(description: str) -> Iterator[ImportProgress]:
    """A progress bar on stderr, so that stdout keeps only the report; yields what moves it."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        # The bar is for someone watching; in a log it would be a stray line.
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=None)

        def show(done: int, total: int) -> None:
            if done < total:
                progress.update(task, completed=done, total=total)
            else:
                # The database write after the last record has no steps of its own: a pulsing
                # bar and a turning spinner (a finished task stops both) say it is under way.
                progress.update(task, total=None, description="Writing to the database")

        yield show


def _print_skipped(what: str, skipped: SkipLog) -> None:
    print(f"  skipped {what}: {skipped.total}")
    for reason, count in skipped.counts.most_common():
        print(f"    {reason}: {count}, e.g.")
        for example in skipped.examples[reason]:
            print(f"      {example}")


def _print_marc_import_report(path: Path, report: MarcImportReport) -> None:
    print(
        f"Imported {path} into library {report.library_id}:\n"
        f"  records read: {report.records_read}\n"
        f"  records: {report.records}\n  items: {report.items}\n"
        f"  ISBNs: {report.isbns} in {report.records_with_isbn} records, "
        f"{len(report.invalid_isbns)} invalid (left out of their records)"
    )
    for invalid in report.invalid_isbns:
        print(f"    {invalid.record_id}: {invalid.value!r}")
    _print_skipped("records", report.skipped_records)
    _print_skipped("holdings", report.skipped_holdings)


def _command_import_marc(settings: Settings, arguments: argparse.Namespace) -> int:
    path: Path = arguments.file
    # Refused before the database is opened: a mistyped name must not create an empty one.
    try:
        path.open("rb").close()
    except OSError as error:
        print(f"tessera: {UnreadableMarcFile(path, error.strerror or str(error))}", file=sys.stderr)
        return 2

    async def run() -> MarcImportReport:
        runtime = Runtime.from_settings(settings)
        try:
            await runtime.start()
            with _progress_bar(f"Reading {path.name}") as progress:
                async with transaction(runtime.sessions) as session:
                    report = await import_marc(
                        session,
                        path,
                        library_id=arguments.library,
                        now=runtime.clock.now(),
                        progress=progress,
                    )
            await runtime.indexer.catch_up()
            return report
        finally:
            await runtime.close()

    try:
        report = asyncio.run(run())
    except (UnknownLibrary, UnreadableMarcFile) as error:
        print(f"tessera: {error}", file=sys.stderr)
        return 2
    _print_marc_import_report(path, report)
    return 0


def _command_worker(settings: Settings, _arguments: argparse.Namespace) -> int:
    async def run() -> None:
        runtime = Runtime.from_settings(settings)
        try:
            await runtime.start()
            print("Tessera worker: scheduled work and index updates", flush=True)
            await runtime.work_forever()
        finally:
            await runtime.close()

    asyncio.run(run())
    return 0


def _command_reindex(settings: Settings, _arguments: argparse.Namespace) -> int:
    async def run() -> int:
        runtime = Runtime.from_settings(settings)
        try:
            await runtime.start()
            return await runtime.indexer.rebuild()
        finally:
            await runtime.close()

    print(f"Reindexed {asyncio.run(run())} records.")
    return 0


def _command_vapid_keys(_settings: Settings, _arguments: argparse.Namespace) -> int:
    private, public = new_vapid_key_pair()
    print(f"TESSERA_VAPID_PRIVATE_KEY={private}")
    print(f"# public key (applicationServerKey): {public}")
    return 0


def _command_export_schema(_settings: Settings, arguments: argparse.Namespace) -> int:
    sdl = f"{graphql_schema}\n"
    if arguments.output is None:
        sys.stdout.write(sdl)
    else:
        arguments.output.write_text(sdl, encoding="utf-8")
        print(f"Wrote the GraphQL schema to {arguments.output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve GraphQL at /graphql and the PWA at /")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dataset", type=Path, help="load this dataset first")
    serve.add_argument(
        "--no-worker", action="store_true", help="leave the scheduled work to `tessera worker`"
    )
    serve.set_defaults(handler=_command_serve)

    worker = commands.add_parser("worker", help="run the scheduled work and index updates")
    worker.set_defaults(handler=_command_worker)

    reindex = commands.add_parser("reindex", help="rebuild the search index from the database")
    reindex.set_defaults(handler=_command_reindex)

    load = commands.add_parser("load", help="load a dataset (JSON) into the database")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_command_load)

    import_marc_command = commands.add_parser(
        "import-marc",
        help="import MARC21 or UNIMARC records (binary or MARCXML) and their copies into a library",
    )
    import_marc_command.add_argument("file", type=Path)
    import_marc_command.add_argument(
        "--library", required=True, metavar="ID", help="the library to import into (already loaded)"
    )
    import_marc_command.set_defaults(handler=_command_import_marc)

    vapid = commands.add_parser("vapid-keys", help="print a new VAPID key pair")
    vapid.set_defaults(handler=_command_vapid_keys)

    export_schema = commands.add_parser(
        "export-schema", help="print the GraphQL schema (SDL), or write it to a file"
    )
    export_schema.add_argument("output", nargs="?", type=Path, help="e.g. schema.graphql")
    export_schema.set_defaults(handler=_command_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = Settings()
    try:
        return int(arguments.handler(settings, arguments))
    except (InvalidDataset, InvalidPolicy) as error:
        print(f"tessera: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
