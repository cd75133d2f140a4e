"""The ``minime`` command line: render, verify, themes, gallery, and the servers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import random
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from minime.core.errors import MinimeError
from minime.core.logs import configure_logging
from minime.core.settings import Settings

# What the TensorFlow Lite runtime inside mediapipe writes straight to file descriptor 2 when a model loads (its C++
# logging ignores GLOG_minloglevel / TF_CPP_MIN_LOG_LEVEL): noise to a person running a command.
_NATIVE_NOISE = re.compile(r"^(INFO: Created TensorFlow Lite|WARNING: All log messages before absl::InitializeLog"
                           r"|[IWE]\d{4} [\d:. ]+\d+ \w+\.cc:\d+\])")


@contextlib.contextmanager
def _native_noise_filtered() -> Iterator[None]:
    """Run a block with native writes to stderr captured, then pass on every line that is not known noise.

    Python's own stderr keeps writing to the terminal meanwhile (progress bars stay live).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        sys.stderr = open(saved, "w", closefd=False, buffering=1)  # noqa: SIM115 - restored in finally
        try:
            yield
        finally:
            sys.stderr.flush()
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not _NATIVE_NOISE.match(line):
                    print(line, file=sys.stderr)


def _render(args: argparse.Namespace, settings: Settings) -> int:
    from minime.core import intake
    from minime.core.adjust import finish
    from minime.core.domain import RenderParams
    from minime.core.engines import RenderRequest, create_engine, theme_catalog
    from minime.core.engines.classic import ClassicEngine, figure3d
    from minime.core.errors import NoFigure
    from minime.core.refine import parse_refinement
    from minime.core.themes import split_things

    catalog = theme_catalog(settings, args.engine)
    engine = create_engine(settings, args.engine)
    name, things = split_things(args.name)
    theme, variant, text = catalog.resolve(args.theme, args.variant or name)
    if args.variant and name:
        text = name
    source = intake.open_image(Path(args.input).read_bytes(), max_bytes=settings.max_upload_bytes,
                               max_pixels=settings.max_image_pixels)
    params = RenderParams(name=text or name, variant=variant, seed=args.seed or random.randrange(1, 2**31),
                          things=things)
    for phrase in args.refine:
        refinement = parse_refinement(phrase, catalog, accept_instructions=engine.understands_instructions)
        params = refinement.apply_to(params, theme.id, random.randrange(1, 2**31))
        theme = refinement.theme or theme
    figure_files = _figure_files_wanted(args, settings)
    if figure_files and not ClassicEngine.has_figure(theme):
        raise NoFigure(f"{theme.title} has no 3D figure, so it can't turn or be printed (--turntable, --mesh). "
                       f"Looks with one: {', '.join(sorted(figure3d.FIGURE_RECIPES))}.")
    with _native_noise_filtered():
        output = asyncio.run(_render_once(engine, RenderRequest(source, theme, params)))
    image = finish(output.image, theme.finish.plus(params.adjustments), params.seed)
    # Marked and kept in the data folder's store like a chat result, so `minime verify` (and /verify) know it.
    image, jpeg = asyncio.run(_keep(settings, theme, params, image, output.source_type))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        out.write_bytes(jpeg)
    elif suffix == ".png":
        out.write_bytes(intake.png_bytes(image, output.source_type))
    else:
        image.save(out)
    for note in output.notes:
        print(note, file=sys.stderr)
    print(f"{out} ({theme.id}, {image.width}×{image.height})")
    if figure_files:
        _write_figure_files(figure_files, RenderRequest(source, theme, params), settings)
    return 0


def _figure_files_wanted(args: argparse.Namespace, settings: Settings) -> list[tuple[Path, Any]]:
    """The figure files asked for (--turntable, --mesh), each with its spec; the format is the file's extension."""
    from minime.core.engines.classic import MESH_FORMATS, TURNTABLE_FORMATS, FigureFileSpec

    wanted = []
    for path, formats, option in ((args.turntable, TURNTABLE_FORMATS, "--turntable"),
                                  (args.mesh, MESH_FORMATS, "--mesh")):
        if not path:
            continue
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in formats:
            raise ValueError(f"{option} writes {' or '.join('.' + f for f in formats)} files, not {path!r}")
        wanted.append((Path(path), FigureFileSpec(fmt, size=settings.turntable_size, frames=settings.turntable_frames,
                                                  seconds=settings.turntable_seconds, height_mm=args.height_mm)))
    return wanted


def _write_figure_files(wanted: list[tuple[Path, Any]], request: Any, settings: Settings) -> None:
    """Build the still's figure once more (the same Look: the same figure) and write its turntable and mesh."""
    from minime.core.engines.classic import ClassicEngine

    with _native_noise_filtered():
        files = ClassicEngine(settings.work_size).figure_files(request, [spec for _, spec in wanted])
    for (path, spec), data in zip(wanted, files):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        what = (f"turntable, {spec.frames} frames, {spec.size} px, {spec.seconds:g} s" if spec.is_turntable
                else f"mesh, {spec.height_mm:g} mm tall")
        print(f"{path} ({what})")


async def _render_once(engine: Any, request: Any) -> Any:
    """One render, then the engine's connections and models are released (no warnings at exit)."""
    try:
        return await engine(request)
    finally:
        await engine.close()


async def _keep(settings: Settings, theme: Any, params: Any, image: Any, source_type: str) -> tuple[Any, bytes]:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the store's set-up and migrations: not news to a person
    from minime.core.app import build_studio
    from minime.core.domain import UserKey

    studio = build_studio(settings)
    await studio.store.migrate()
    try:
        _, marked, jpeg = await studio.keep(UserKey("cli", _operator()), theme, params, image, source_type)
        return marked, jpeg
    finally:
        await studio.engine.close()
        await studio.store.close()


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "operator"


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from minime.core.app import build_studio

    async def recognise() -> tuple[Any, str | None]:
        studio = build_studio(settings)
        await studio.store.migrate()
        try:
            return await studio.recognise(Path(args.image).read_bytes())
        finally:
            await studio.engine.close()
            await studio.store.close()

    found, how = asyncio.run(recognise())
    if found is None:
        print(f"{args.image}: not made by minime (no minime watermark, and it matches no result in "
              f"{settings.data_dir})")
        return 1
    by = "its hidden watermark" if how == "watermark" else "its visual fingerprint and watermark"
    print(f"{args.image}: made by minime: {theme_title(settings, found.theme_id)} (result {found.id}, "
          f"recognised by {by})")
    return 0


def theme_title(settings: Settings, theme_id: str) -> str:
    """A theme's title, or its id when the theme is no longer installed."""
    from minime.core.engines import theme_catalog

    try:
        return theme_catalog(settings).get(theme_id).title
    except Exception:
        return theme_id


def _themes(_: argparse.Namespace, settings: Settings) -> int:
    from minime.core.engines import theme_catalog

    for theme in theme_catalog(settings):
        usage = f"/{theme.command}" + (f" {theme.variant}" if theme.variant else "")
        if theme.argument in ("name", "caption"):
            usage += f" [{theme.argument}]"
        elif theme.variants:
            usage += f" [{'|'.join(theme.variants)}]"
        print(f"{theme.id:<15} {usage:<24} {theme.description}")
    return 0


def _gallery(args: argparse.Namespace, settings: Settings) -> int:
    from minime.core import intake
    from minime.core.engines import theme_catalog
    from minime.core.engines.classic import ClassicEngine
    from minime.core.gallery import render_gallery

    catalog = theme_catalog(settings, "classic")
    source = intake.open_image(Path(args.input).read_bytes(), max_bytes=settings.max_upload_bytes,
                               max_pixels=settings.max_image_pixels)
    with _native_noise_filtered(), tqdm(total=len(catalog), desc="rendering themes", unit="theme") as bar:
        sheet = render_gallery(source, catalog, ClassicEngine(settings.work_size), name=args.name,
                               on_theme=lambda theme: (bar.set_postfix_str(theme.id), bar.update()))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    print(f"{out} ({len(catalog)} themes, {sheet.width}×{sheet.height})")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from minime.core.app import serve

    adapters = {"web": {"web": True, "telegram": False, "discord": False},
                "telegram": {"web": False, "telegram": True, "discord": False},
                "discord": {"web": False, "telegram": False, "discord": True},
                "serve": {"web": True, "telegram": None, "discord": None}}[args.command]
    asyncio.run(serve(settings, **adapters))
    return 0


def _positive_mm(text: str) -> float:
    value = float(text)
    if not 1.0 <= value <= 2000.0:
        raise argparse.ArgumentTypeError("the height is in millimetres, between 1 and 2000")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="minime", description="Selfies into figurines, toy boxes and retro looks.")
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render one selfie with a theme")
    render.add_argument("input")
    render.add_argument("-t", "--theme", required=True, help="theme id or command (figurine, retro-80s, popart…)")
    render.add_argument("--name", help="the name (or caption) to typeset")
    render.add_argument("--variant", help="a variant such as 80s or grid")
    render.add_argument("--refine", action="append", default=[], help="a refinement, e.g. 'warmer colors'")
    render.add_argument("--engine", choices=["classic", "diffusion", "ray", "hosted"])
    render.add_argument("--seed", type=int, default=0)
    render.add_argument("-o", "--output", required=True)
    render.add_argument("--turntable", metavar="OUT.mp4|OUT.gif",
                        help="also write a loop of the figure turning (looks with a 3D figure)")
    render.add_argument("--mesh", metavar="OUT.glb|OUT.3mf|OUT.stl",
                        help="also write the figure as a printable, watertight solid (looks with a 3D figure)")
    render.add_argument("--height-mm", type=_positive_mm, default=100.0, help="the printed figure's height "
                        "(default 100 mm)")
    render.set_defaults(func=_render)
    themes = sub.add_parser("themes", help="list the themes")
    themes.set_defaults(func=_themes)
    gallery = sub.add_parser("gallery", help="render every theme into one contact sheet")
    gallery.add_argument("input")
    gallery.add_argument("--name", default="Mini Me")
    gallery.add_argument("-o", "--output", required=True)
    gallery.set_defaults(func=_gallery)
    verify = sub.add_parser("verify", help="did minime make this image? (exit 0: yes, and which look; 1: no)")
    verify.add_argument("image")
    verify.set_defaults(func=_verify)
    for name, helptext in (("web", "serve the web playground"),
                           ("telegram", "run the Telegram bot (MINIME_TELEGRAM_TOKEN)"),
                           ("discord", "run the Discord bot (MINIME_DISCORD_TOKEN)"),
                           ("serve", "run everything that is configured in one process")):
        p = sub.add_parser(name, help=helptext)
        p.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``minime`` console script."""
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        return args.func(args, settings)
    except MinimeError as exc:
        print(f"minime: {getattr(exc, 'detail', None) or exc.user_message}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"minime: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # start-up trouble (a read-only data folder, an unreachable database): one clear line
        print(f"minime: {_start_up_trouble(exc)}", file=sys.stderr)
        if settings.log_level.upper() == "DEBUG":
            raise
        return 1
    except KeyboardInterrupt:
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _start_up_trouble(exc: BaseException) -> str:
    """What went wrong, in words, without secrets (a database URL may hold a password)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(exc, ArgumentError):
        return "MINIME_DATABASE_URL is not a database URL SQLAlchemy understands."
    if isinstance(exc, (DBAPIError, ConnectionError)) or isinstance(exc.__cause__, ConnectionError):
        return f"the database can't be reached or written ({type(exc.__cause__ or exc).__name__})."
    if isinstance(exc, PermissionError):
        return f"no permission to write {exc.filename or 'the data folder'} (MINIME_DATA_DIR)."
    if isinstance(exc, OSError):
        return f"{exc.strerror or _one_line(exc)}: {exc.filename or ''} (check MINIME_DATA_DIR and disk space)."
    from minime.core.logs import redact_text

    return f"{type(exc).__name__}: {redact_text(_one_line(exc))} (MINIME_LOG_LEVEL=DEBUG shows the details)."


if __name__ == "__main__":
    sys.exit(main())
