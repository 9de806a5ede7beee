"""`gongu render`: case files → survey reports (PDF/A-3a + DOCX), several at once in worker processes."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gongu.output import GonguError, console, err_console, fail, print_problems

if TYPE_CHECKING:
    from generator.problems import Problem
    from gongu.settings import Settings

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root


@dataclass
class Outcome:
    case_file: str
    ok: bool
    message: str = ""
    problems: list[Problem] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    pages: int = 0
    # A forensic case renders several documents: (Chinese title, its files, pages) each, primary first.
    documents: list[tuple[str, list[str], int]] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time this case took in its process (the bench sums it)


def render_one(case_file: str, out_dir: str, formats: tuple[str, ...], templates: str | None) -> Outcome:
    """One case, in a worker process: every expected failure becomes a message, never a traceback."""
    # Imported here, not at module level: WeasyPrint takes ~1 s to load and every `gongu` command
    # would pay for it.
    from generator.loading import CaseFileError, load_case
    from generator.render import RenderError, render_case_documents

    cpu = time.process_time()
    try:
        loaded = load_case(case_file)
        docs = render_case_documents(loaded, Path(out_dir), formats, Path(templates) if templates else None)
    except CaseFileError as exc:
        return Outcome(case_file, False, "案件文件校验失败", problems=exc.problems)
    except RenderError as exc:
        return Outcome(case_file, False, str(exc))
    except OSError as exc:
        return Outcome(case_file, False, f"无法写入输出：{exc.strerror} ({exc.filename})")
    documents = [(d.title, [str(p) for p in (d.pdf, d.docx) if p is not None], d.pages) for d in docs]
    primary = next(d for d in docs if d.primary)
    outputs = [str(p) for p in (primary.pdf, primary.docx) if p is not None]
    return Outcome(case_file, True, outputs=outputs, pages=primary.pages, documents=documents if len(docs) > 1 else [],
                   cpu_seconds=time.process_time() - cpu)


def default_templates(settings: Settings) -> Path | None:
    from gongu.pipeline.templates import configured_templates

    return configured_templates(settings)


def parse_formats(value: str) -> tuple[str, ...]:
    from generator.render import FORMATS

    formats = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise GonguError(f"--format 只能是 pdf、docx 或 pdf,docx（收到 {value!r}）")
    return formats


def render_many(case_files: list[Path], out_dir: Path, formats: tuple[str, ...], templates: Path | None,
                jobs: int, show_progress: bool = True) -> list[Outcome]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    args = [(str(p), str(out_dir), formats, str(templates) if templates else None) for p in case_files]
    outcomes: list[Outcome] = []
    progress = Progress(TextColumn("[bold]渲染报告"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.description}"), console=err_console, disable=not show_progress,
                        transient=False)
    with progress:
        task = progress.add_task("", total=len(args))
        if jobs <= 1 or len(args) == 1:
            for a in args:
                progress.update(task, description=Path(a[0]).name)
                outcomes.append(render_one(*a))
                progress.advance(task)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            # forkserver: workers fork from a clean server process, never from this one while rich's
            # refresh thread may hold a lock; the server preloads the renderer once for all workers.
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["gongu.cli.render", "generator.loading"])
            with ProcessPoolExecutor(max_workers=min(jobs, len(args)), mp_context=ctx) as pool:
                futures = {pool.submit(render_one, *a): a[0] for a in args}
                for fut in as_completed(futures):
                    outcomes.append(fut.result())
                    progress.update(task, description=Path(futures[fut]).name)
                    progress.advance(task)
    order = {str(p): i for i, p in enumerate(case_files)}
    return sorted(outcomes, key=lambda o: order[o.case_file])


@commands.command()
def render(
    case_files: Annotated[list[Path], typer.Argument(help="一个或多个案件文件 case.json", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出目录；缺省为 GONGU_HOME/reports")] = None,
    format: Annotated[str, typer.Option("--format", help="输出格式：pdf,docx")] = "pdf,docx",  # noqa: A002
    templates: Annotated[Path | None, typer.Option("--templates", help="机构模板目录（覆盖随附模板、标志、印章、配色）")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="并行进程数", min=1)] = min(2, os.cpu_count() or 1),
    background: Annotated[bool, typer.Option("--background", help="作为后台任务执行：立即返回任务编号（gongu jobs show 查看，gongu worker 执行）")] = False,
) -> None:
    """生成报告：每个案件输出 <报告编号>.pdf（PDF/A-3a，内嵌案件文件）和 .docx；司法鉴定案件另输出其余各文书 <报告编号>-<文书>.pdf|.docx。"""
    from gongu.pipeline.templates import firm_templates
    from gongu.settings import load_settings

    settings = load_settings()
    try:
        formats = parse_formats(format)
    except GonguError as exc:
        fail(str(exc))
    out_dir = output or settings.home / "reports"
    try:
        templates = firm_templates(settings, templates)
    except GonguError as exc:
        fail(str(exc))
    if background:
        from gongu.cli.jobs import start_background

        missing = [str(p) for p in case_files if not p.is_file()]
        if missing:
            fail(f"案件文件不存在：{'、'.join(missing)}")
        start_background("render_batch", {"case_files": [str(p.resolve()) for p in case_files],
                                          "out_dir": str(out_dir.resolve()), "formats": list(formats),
                                          "templates": str(templates.resolve()) if templates else None},
                         settings=settings)
    outcomes = render_many(case_files, out_dir, formats, templates, jobs)
    failed = 0
    for o in outcomes:
        if o.ok:
            if o.documents:  # a forensic case: each of its documents, the primary first
                console.print(f"[green]✓[/] {o.case_file}：{len(o.documents)} 份文书")
                for title, files, pages in o.documents:
                    console.print(f"    {title} → {', '.join(files)}" + (f"（{pages} 页）" if pages else ""))
            else:
                console.print(f"[green]✓[/] {o.case_file} → {', '.join(o.outputs)}" + (f"（{o.pages} 页）" if o.pages else ""))
        else:
            failed += 1
            if o.problems:
                print_problems(o.case_file, o.problems)
            err_console.print(f"[bold red]✗[/] {o.case_file}：{o.message}")
    if failed:
        err_console.print(f"[bold red]{failed} 个案件渲染失败[/]，{len(outcomes) - failed} 个成功")
        raise typer.Exit(2)
