"""Each tab shows the job it started and nothing else: Stop acts on that job only, a job cancelled in the
Queue panel frees its tab, and a run reopened from History shows that run, not an earlier one."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def slow_graph(title: str, steps: int = 600) -> dict:
    return {"nodeflow": 1, "meta": {"title": title}, "nodes": {
        "slow": {"type": "uitest.slow", "params": {"steps": steps, "delay": 0.05}, "ui": {"pos": [80, 80]}},
        "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]},
                 "params": {"filename": f"{title.lower()}.png"}, "ui": {"pos": [420, 80]}}}}


def job_status(page, job: str) -> str:
    return page.evaluate("id => fetch('/api/queue/' + id).then(r => r.json()).then(j => j.status)", job)


def stop_everything(page) -> None:
    """Leave no job running for the tests after this one."""
    page.evaluate("""async () => {
        const { jobs } = await (await fetch('/api/queue')).json();
        for (const j of jobs) if (j.status === 'queued') await fetch('/api/queue/' + j.id + '/cancel', { method: 'POST' });
        await fetch('/api/stop', { method: 'POST' });
    }""")


def switch_to(page, title: str) -> None:
    page.locator("[data-testid=tab]", has_text=title).click()
    page.wait_for_function("t => document.querySelector('[data-testid=graph-title]').value === t", arg=title)


def test_stop_in_a_tab_whose_run_finished_leaves_another_tabs_job_running(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Finished here"
    open_graph(page, graph)
    run_and_wait(page)
    open_graph(page, slow_graph("Long one"))
    page.click("[data-testid=btn-run]")
    page.wait_for_selector("[data-testid=node-slow][data-status=running]")
    job = page.get_attribute("[data-testid=run-status]", "data-run")
    try:
        switch_to(page, "Finished here")
        stop = page.locator("[data-testid=btn-stop]")
        assert stop.is_disabled(), "Stop is offered in a tab whose own run has finished"
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
        assert job_status(page, job) == "running"
        switch_to(page, "Long one")
        page.click("[data-testid=btn-stop]")
        page.wait_for_selector("[data-testid=run-status][data-status=cancelled]", timeout=15_000)
    finally:
        stop_everything(page)


def test_a_waiting_job_cancelled_in_the_queue_panel_frees_its_tab(page):
    open_graph(page, slow_graph("Runs first"))
    page.click("[data-testid=btn-run]")
    page.wait_for_selector("[data-testid=node-slow][data-status=running]")
    try:
        open_graph(page, slow_graph("Waits", steps=5))
        page.click("[data-testid=btn-run]")
        page.wait_for_selector("[data-testid=run-status]:has-text('queued')")
        waiting = page.get_attribute("[data-testid=run-status]", "data-run")
        assert page.locator("[data-testid=btn-run]").is_disabled()
        page.click("[data-testid=btn-queue]")
        page.click(f"[data-testid=job-cancel-{waiting}]")
        page.wait_for_selector(f"[data-testid=job-{waiting}][data-status=cancelled]")
        # the tab hears it: no longer queued, Run offered again, Stop not
        page.wait_for_selector("[data-testid=run-status][data-status=cancelled]", timeout=10_000)
        assert page.inner_text("[data-testid=run-status]") != "queued"
        assert page.locator("[data-testid=btn-run]").is_enabled()
        assert page.locator("[data-testid=btn-stop]").is_disabled()
        # and it stays so after a reload
        page.reload()
        page.wait_for_selector("[data-testid=toolbar]")
        page.wait_for_function("() => document.querySelector('[data-testid=graph-title]').value === 'Waits'")
        page.wait_for_selector("[data-testid=run-status][data-status=cancelled]", timeout=10_000)
        assert page.locator("[data-testid=btn-run]").is_enabled()
    finally:
        stop_everything(page)


def test_a_sweep_reopened_from_history_shows_that_run_not_an_earlier_one(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Swept later"
    graph["nodes"]["caption"]["params"]["text"] = "first run"
    open_graph(page, graph)
    run_and_wait(page)
    first_image = page.get_attribute("[data-testid=preview-image-save]", "src")
    # the second run: a sweep over the noise seed, with another caption
    graph["nodes"]["noise"]["params"]["seed"] = {"sweep": [1, 2]}
    graph["nodes"]["caption"]["params"]["text"] = "second run"
    open_graph(page, graph)
    run_and_wait(page)
    swept = page.get_attribute("[data-testid=run-status]", "data-run")
    page.click("[data-testid=btn-new]")
    page.click("[data-testid=btn-history]")
    page.locator(f"[data-testid=history-{swept}]").click()
    page.wait_for_selector("[data-testid=node-save]")
    page.wait_for_function("r => document.querySelector('[data-testid=run-status]').dataset.run === r", arg=swept)
    assert page.locator("[data-testid=node-noise] [data-testid^=sweep-]").count() >= 1
    # each item of the sweep shows its own file, none the earlier run's
    page.wait_for_selector("[data-testid=preview-item-save-1]")
    sources = [page.get_attribute(f"[data-testid=preview-item-save-{i}]", "src") for i in (0, 1)]
    assert first_image not in sources and sources[0] != sources[1], sources
    assert page.locator("[data-testid=preview-image-save]").count() == 0
    assert page.get_attribute("[data-testid=node-caption]", "data-status") in ("done", "cached")
