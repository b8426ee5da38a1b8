"""Two app processes behind a real nginx (deploy/serve.py): a browser stays on one process, and when that
process dies its students are routed to the live one."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import urllib.request

import pytest

from bench import load_test
from deploy.serve import Cluster, free_port

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"), reason="nginx is not installed"
)


def get(url: str, cookie: str = "") -> tuple[int, str]:
    """Status and the routing cookie of one GET through the proxy."""
    req = urllib.request.Request(url, headers={"Cookie": f"classroom_route={cookie}"} if cookie else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        route = ""
        for header in resp.headers.get_all("Set-Cookie") or []:
            if header.startswith("classroom_route="):
                route = header.split("=", 1)[1].split(";", 1)[0]
        return resp.status, route


def upstreams_by_route(log: str) -> dict[str, set[str]]:
    """Route cookie → the app processes (last upstream tried) that answered its requests, from nginx's log."""
    routes: dict[str, set[str]] = {}
    for line in log.splitlines():
        match = re.search(r"upstream=(\S+(?:, \S+)*) route=(\S+)", line)
        if match:
            routes.setdefault(match.group(2), set()).add(match.group(1).split(", ")[-1])
    return routes


@pytest.fixture(scope="module")
def cluster():
    running = Cluster(2, free_port())
    running.start()
    yield running
    running.stop()


def test_each_browser_stays_on_one_process_and_both_processes_serve(cluster):
    routes = []
    for _ in range(20):
        status, route = get(f"{cluster.url}/")
        assert status == 200 and route
        routes.append(route)
        for path in ("/_stcore/health", "/", "/_stcore/health"):
            assert get(f"{cluster.url}{path}", route)[0] == 200
    seen = upstreams_by_route(cluster.access_log())
    assert all(len(seen[route]) == 1 for route in routes), seen
    assert {next(iter(seen[route])) for route in routes} == {f"127.0.0.1:{port}" for port in cluster.app_ports}


async def run_lab(url: str, route: str) -> dict[str, object]:
    """A websocket student through the proxy with this routing cookie: opens the lab and moves its seed."""
    stats = load_test.Stats()
    student = load_test.Student(1, url, stats)
    student.cookies["classroom_route"] = route
    await student.connect()
    seconds = await student.new_seed()
    await student.close()
    return {"seconds": seconds, "failures": stats.failures, "images": stats.latencies.get("media_image", [])}


def test_a_killed_process_s_students_reach_the_live_one(cluster):
    first_port = f"127.0.0.1:{cluster.app_ports[0]}"
    route = ""
    for _ in range(40):  # a new browser whose cookie routes it to the first process
        _, candidate = get(f"{cluster.url}/")
        if upstreams_by_route(cluster.access_log()).get(candidate) == {first_port}:
            route = candidate
            break
    assert route, "no browser was routed to the first process"
    before = asyncio.run(asyncio.wait_for(run_lab(cluster.url, route), 120))
    assert before["failures"] == {} and before["seconds"] is not None and before["images"]

    cluster.apps[0].kill()
    cluster.apps[0].wait(10)
    after = asyncio.run(asyncio.wait_for(run_lab(cluster.url, route), 120))
    assert after["failures"] == {} and after["seconds"] is not None and after["images"]
    last = [line for line in cluster.access_log().splitlines() if f"route={route}" in line][-1]
    assert f"127.0.0.1:{cluster.app_ports[1]}" in last
    # The same browser keeps reaching the live process (its cookie did not change).
    assert get(f"{cluster.url}/", route) == (200, route)
