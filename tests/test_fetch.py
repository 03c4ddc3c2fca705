"""``agentctl fetch`` and the ``fetch_doc`` action against real HTTP servers on 127.0.0.1 (and
127.0.0.2): HTML and markdown pages, ETag / Last-Modified revalidation, redirects to private
addresses, size and time limits, other schemes, and an agent's fetch through a real tick."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, git
from helpers_heartbeat import add_command_agent, script, thread, tick_json

from agentctl.errors import ExitCode

HTML = """<!doctype html><html><head><title>The Widget API</title>
<script>document.write("evil")</script><style>body { color: red }</style></head>
<body><nav><a href="javascript:alert(1)">home</a></nav>
<h1>Widgets</h1><p>Call <code>widget.spin()</code> to <a href="/spin">spin</a> one.\x1b[31m</p>
<pre><code>widget.spin(speed=3)
</code></pre><img src="x.png" alt="a diagram"><form><input name="q"></form></body></html>"""
MARKDOWN = "# Release notes\n\n- 1.2: faster spins\n"


@dataclass
class Site:
    """What the server serves and what it saw."""

    port: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    conditional: list[str] = field(default_factory=list)
    redirect_to: str = ""


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, code: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            site.hits[path] = site.hits.get(path, 0) + 1
            if path == "/page.html":
                if self.headers.get("If-None-Match") == '"v1"':
                    site.conditional.append(path)
                    self.send_response(304)
                    self.send_header("ETag", '"v1"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, HTML.encode(), "text/html; charset=utf-8", ETag='"v1"')
            elif path == "/notes.md":
                stamp = "Wed, 02 Dec 2026 10:00:00 GMT"
                if self.headers.get("If-Modified-Since") == stamp:
                    site.conditional.append(path)
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, MARKDOWN.encode(), "text/markdown", Last_Modified=stamp)
            elif path == "/plain.txt":
                body = "token=sk-ant-abcdefghijklmnopqrstuvwx0123456789\nbell\x07 and \x1b]0;title\x07 done\n"
                self._send(200, body.encode(), "text/plain; charset=utf-8")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", site.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/big":
                self._send(200, b"x" * 20_000, "text/plain")
            elif path == "/big-stream":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(20):
                    self.wfile.write(b"y" * 1000)
                self.close_connection = True
            elif path == "/trickle":  # headers at once, then one byte every 0.2 s for 20 s
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "100")
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"z")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass  # the client gave up
            elif path == "/slow":
                time.sleep(3)
                self._send(200, b"late", "text/plain")
            elif path == "/image.png":
                self._send(200, b"\x89PNG\r\n\x1a\n", "image/png")
            else:
                self._send(404, b"no", "text/plain")

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a refused or timed-out fetch) is expected here; socketserver
        would print a traceback to stderr, inside the output of whichever in-process command
        a test is capturing at that moment."""


def _serve(host: str, site: Site) -> Iterator[ThreadingHTTPServer]:
    server = _QuietServer((host, site.port), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    yield from (served for _ in _serve("127.0.0.1", served))


@pytest.fixture
def other_site() -> Iterator[Site]:
    """A second server on another loopback address (127.0.0.2)."""
    served = Site()
    try:
        gen = _serve("127.0.0.2", served)
        next(gen)
    except OSError as exc:  # pragma: no cover - a system without the whole 127/8 on lo
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    yield served
    with pytest.raises(StopIteration):
        next(gen)


def set_fetch(root: Path, **values: str) -> None:
    """Set keys of the config's fetch: section (as a person edits it; committed in git)."""
    path = root / ".agentctl" / "config.yaml"
    head, marker, rest = path.read_text(encoding="utf-8").partition("\nfetch:\n")
    assert marker, "the config template has a fetch: section"
    block, _, tail = rest.partition("\n\n")
    lines = block.splitlines()
    for key, value in values.items():
        [number] = [n for n, line in enumerate(lines) if line.startswith(f"  {key}:")]
        lines[number] = f"  {key}: {value}"
    path.write_text(head + marker + "\n".join(lines) + "\n\n" + tail, encoding="utf-8")
    if (root / ".git").exists():
        git(root, "commit", "-q", "-m", "fetch config", "--", ".agentctl/config.yaml")


# A roomy timeout: a loaded machine (tests on every core) must not turn a 404 into a timeout;
# the timeout tests set their own.
LOCAL = {"allow_private": '["127.0.0.1"]', "timeout": "10", "max_bytes": "4096"}


def url(site: Site, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{site.port}{path}"


def fetch(cli: Runner, *args: str, code: int = 0) -> dict[str, Any]:
    result = cli("fetch", *args, "--json")
    assert result.code == code, str(result)
    doc: dict[str, Any] = result.json()["doc"]
    return doc


def doc_file(root: Path, doc: dict[str, Any]) -> str:
    return (root / str(doc["path"])).read_text(encoding="utf-8")


# -- pages -------------------------------------------------------------------------------------


def test_an_html_page_becomes_a_research_document(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    task = add_task(cli, "Spin widgets")
    doc = fetch(cli, url(site, "/page.html"), "--task", task)
    assert doc["outcome"] == "added" and doc["type"] == "research" and doc["task"] == task
    assert doc["title"] == "The Widget API"
    assert doc["source_url"] == url(site, "/page.html") and doc["fetched_at"]
    text = doc_file(git_ws_root, doc)
    assert "# Widgets" in text and "`widget.spin()`" in text
    assert f"[spin](http://127.0.0.1:{site.port}/spin)" in text  # made absolute
    assert "widget.spin(speed=3)" in text and "[image: a diagram]" in text
    for gone in ("evil", "color: red", "javascript", "\x1b", "<form", "<input"):
        assert gone not in text
    assert f"source_url: {url(site, '/page.html')}" in text
    shown = cli("doc", "show", doc["id"])
    assert f"source: {url(site, '/page.html')} · fetched {doc['fetched_at']}" in shown.out
    assert cli("validate").code == 0
    assert git(git_ws_root, "status", "--porcelain") == ""  # committed


def test_a_markdown_page_is_kept_as_is_and_revalidated_with_last_modified(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    doc = fetch(cli, url(site, "/notes.md"))
    assert doc["title"] == "Release notes"
    assert doc_file(git_ws_root, doc).endswith(MARKDOWN)
    again = fetch(cli, url(site, "/notes.md"))
    assert site.conditional == ["/notes.md"]
    assert again["id"] == doc["id"] and again["outcome"] == "unchanged"
    assert again["fetched"]["revalidated"] is True
    assert len(cli("doc", "list", "--json").json()["docs"]) == 1


def test_a_304_reuses_the_cache_and_a_new_text_updates_the_document(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    first = fetch(cli, url(site, "/page.html"), "--title", "Widgets")
    assert first["title"] == "Widgets"
    second = fetch(cli, url(site, "/page.html"))
    assert site.conditional == ["/page.html"] and site.hits["/page.html"] == 2
    assert second["outcome"] == "unchanged" and second["fetched"]["revalidated"]
    cache = git_ws_root / ".agentctl" / "local" / "fetch"
    assert len(list(cache.glob("*.txt"))) == 1
    # The document changed by hand (or the page did): a refetch puts the page's text back.
    path = git_ws_root / first["path"]
    path.write_text(path.read_text(encoding="utf-8") + "stale line\n", encoding="utf-8")
    git(git_ws_root, "commit", "-qam", "edit")
    third = fetch(cli, url(site, "/page.html"))
    assert third["outcome"] == "updated" and third["id"] == first["id"]
    assert "stale line" not in path.read_text(encoding="utf-8")


def test_plain_text_is_neutralised_and_secrets_are_masked(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    doc = fetch(cli, url(site, "/plain.txt"))
    text = doc_file(git_ws_root, doc)
    assert "sk-ant-abcdefghijklmnop" not in text
    assert "\x07" not in text and "\x1b" not in text and "bell and ]0;title done" in text


# -- refusals ------------------------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed(git_ws_root: Path, cli: Runner, site: Site) -> None:
    result = cli("fetch", url(site, "/page.html"))
    assert_one_line_error(
        result, ExitCode.PERMISSION, "127.0.0.1", "loopback, private or link-local"
    )
    assert site.hits == {}  # refused before connecting
    result = cli("fetch", f"http://localhost:{site.port}/page.html")
    assert_one_line_error(result, ExitCode.PERMISSION, "localhost resolves to")


def test_a_redirect_to_a_private_address_is_refused_unless_allowed(
    git_ws_root: Path, cli: Runner, site: Site, other_site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    site.redirect_to = url(other_site, "/notes.md", host="127.0.0.2")
    result = cli("fetch", url(site, "/redirect"))
    assert_one_line_error(result, ExitCode.PERMISSION, "127.0.0.2", "private")
    assert site.hits == {"/redirect": 1} and other_site.hits == {}
    site.redirect_to = "http://10.255.255.1/internal"
    assert_one_line_error(cli("fetch", url(site, "/redirect")), ExitCode.PERMISSION, "10.255.255.1")
    # Allowed explicitly: the redirect is followed.
    set_fetch(git_ws_root, allow_private='["127.0.0.1", "127.0.0.2/32"]')
    site.redirect_to = url(other_site, "/notes.md", host="127.0.0.2")
    doc = fetch(cli, url(site, "/redirect"))
    assert doc["fetched"]["final_url"] == url(other_site, "/notes.md", host="127.0.0.2")
    assert other_site.hits == {"/notes.md": 1}


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/plain,hi", "gopher://x/"]
)
def test_other_schemes_are_refused(git_ws_root: Path, cli: Runner, target: str) -> None:
    assert_one_line_error(cli("fetch", target), ExitCode.PERMISSION, "only http and https")


def test_a_redirect_to_another_scheme_is_refused(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    site.redirect_to = "file:///etc/passwd"
    assert_one_line_error(cli("fetch", url(site, "/redirect")), ExitCode.PERMISSION, "file")


def test_oversized_pages_are_refused(git_ws_root: Path, cli: Runner, site: Site) -> None:
    set_fetch(git_ws_root, **LOCAL)
    for path in ("/big", "/big-stream"):
        result = cli("fetch", url(site, path))
        assert_one_line_error(result, ExitCode.NETWORK, "fetch.max_bytes")
    assert cli("doc", "list", "--json").json()["docs"] == []


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_a_slow_page_times_out(git_ws_root: Path, cli: Runner, site: Site, path: str) -> None:
    """/slow answers after 3 s; /trickle sends a byte every 0.2 s (each read is quick, the whole
    takes 20 s): both are cut off at fetch.timeout."""
    set_fetch(git_ws_root, **{**LOCAL, "timeout": "1"})
    started = time.monotonic()
    result = cli("fetch", url(site, path))
    assert_one_line_error(result, ExitCode.NETWORK, "fetch.timeout (1 s)")
    assert time.monotonic() - started < 10  # not the 20 s the trickle would take


def test_http_errors_bad_urls_and_binary_pages(git_ws_root: Path, cli: Runner, site: Site) -> None:
    set_fetch(git_ws_root, **LOCAL)
    assert_one_line_error(cli("fetch", url(site, "/missing")), ExitCode.NETWORK, "HTTP 404")
    assert_one_line_error(
        cli("fetch", url(site, "/image.png")), ExitCode.NETWORK, "not a text page"
    )
    assert_one_line_error(cli("fetch", "http://user:pw@127.0.0.1/"), ExitCode.USAGE, "credentials")
    assert_one_line_error(cli("fetch", "http:///nohost"), ExitCode.USAGE, "no host")
    assert_one_line_error(
        cli("fetch", "http://127.0.0.1:99999/"), ExitCode.USAGE, "not a valid URL"
    )
    task = add_task(cli, "x")
    assert_one_line_error(
        cli("fetch", url(site, "/notes.md"), "--task", "t-zzzz"), ExitCode.NOT_FOUND
    )
    assert task


# -- agents --------------------------------------------------------------------------------------


def test_agents_need_the_permission_and_an_allowed_domain(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    set_fetch(git_ws_root, **LOCAL)
    for name, level in (("dev-1", "specialist"), ("intern-1", "intern")):
        r = cli("agent", "add", name, "--role", "dev", "--level", level)
        assert r.code == 0, str(r)
    target = url(site, "/notes.md")
    result = cli("--as", "intern-1", "fetch", target)
    assert_one_line_error(result, ExitCode.PERMISSION, "intern-1 (intern) may not fetch web pages")
    result = cli("--as", "dev-1", "fetch", target)
    assert_one_line_error(result, ExitCode.PERMISSION, "not an allowed domain", "fetch.allow: none")
    assert site.hits == {}
    assert '"type":"fetch_doc"' not in cli("prime", "--agent", "dev-1").out  # no domain yet
    set_fetch(git_ws_root, allow='["127.0.0.1"]')
    result = cli("--as", "dev-1", "fetch", target, "--json")
    assert result.code == 0, str(result)
    assert result.json()["doc"]["author"] == "dev-1"
    primed = cli("prime", "--agent", "dev-1")
    assert primed.code == 0, str(primed)
    assert '"type":"fetch_doc"' in primed.out and "domains: 127.0.0.1" in primed.out
    assert '"type":"fetch_doc"' not in cli("prime", "--agent", "intern-1").out


def test_an_agent_fetches_through_a_real_tick(
    git_ws_root: Path, cli: Runner, site: Site, tmp_path: Path
) -> None:
    set_fetch(git_ws_root, **LOCAL, allow='["127.0.0.1"]')
    task = add_task(cli, "Read the widget docs")
    answer = {"actions": [
        {"type": "fetch_doc", "url": url(site, "/page.html"), "task": task},
        {"type": "fetch_doc", "url": "http://10.255.255.1/x", "task": task},
        {"type": "fetch_doc", "url": "file:///etc/passwd", "task": task},
    ]}  # fmt: skip
    argv = script(tmp_path / "scripts", "fetcher", f"""
        prompt = sys.stdin.read()
        pathlib.Path({str(tmp_path / "prompt.txt")!r}).write_text(prompt)
        print({json.dumps(json.dumps(answer))})
        """)  # fmt: skip
    add_command_agent(cli, "dev-1", argv)
    r = cli("task", "assign", task, "dev-1")
    assert r.code == 0, str(r)
    [run] = tick_json(cli, "dev-1")
    assert run["outcome"] == "worked", run
    prompt = (tmp_path / "prompt.txt").read_text()
    assert '"type":"fetch_doc"' in prompt and "only from these domains: 127.0.0.1" in prompt
    [applied] = [a for a in run["actions"] if a["action"] == "fetch_doc"]
    assert applied["task"] == task and applied["outcome"] == "added"
    reasons = " | ".join(r["reason"] for r in run["rejections"])
    assert "10.255.255.1" in reasons  # not an allowed domain
    assert "url" in reasons  # file:// fails the action's own validation
    docs = cli("doc", "list", "--task", task, "--json").json()["docs"]
    assert [d["author"] for d in docs] == ["dev-1"]
    notes = [m["body"] for m in thread(cli, task) if m["author"] == "agentctl"]
    assert any("Rejected dev-1's action fetch_doc" in n and "10.255.255.1" in n for n in notes)


def test_a_bad_fetch_config_is_one_line(git_ws_root: Path, cli: Runner) -> None:
    set_fetch(git_ws_root, allow_private='["not-an-address"]')
    result = cli("fetch", "http://example.invalid/")
    assert_one_line_error(result, ExitCode.VALIDATION, "fetch.allow_private", "not-an-address")
    set_fetch(git_ws_root, allow_private="[]", allow='["Bad Domain"]')
    assert_one_line_error(
        cli("fetch", "http://example.invalid/"), ExitCode.VALIDATION, "fetch.allow"
    )


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True), ("127.0.0.1", False),
     ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False), ("169.254.169.254", False),
     ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1%eth0", False),
     ("fd00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False)],
)  # fmt: skip
def test_which_addresses_are_public(address: str, public: bool) -> None:
    from agentctl.web.fetch import Policy, _public

    assert _public(address, Policy(1024, 1.0)) is public
    allowed = Policy(
        1024, 1.0, private=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    )
    assert _public(address, allowed) is True


def test_agents_do_not_follow_redirects_to_other_domains(
    git_ws_root: Path, cli: Runner, site: Site, other_site: Site
) -> None:
    set_fetch(git_ws_root, allow_private='["127.0.0.0/8"]', allow='["127.0.0.1"]')
    assert cli("agent", "add", "dev-1", "--role", "dev").code == 0
    site.redirect_to = url(other_site, "/notes.md", host="127.0.0.2")
    result = cli("--as", "dev-1", "fetch", url(site, "/redirect"))
    assert_one_line_error(result, ExitCode.PERMISSION, "127.0.0.2 is not an allowed domain")
    assert other_site.hits == {}
    assert cli("fetch", url(site, "/redirect")).code == 0  # a person may follow it


def test_https_goes_through_the_same_address_check(
    git_ws_root: Path, cli: Runner, site: Site
) -> None:
    target = f"https://127.0.0.1:{site.port}/page.html"
    assert_one_line_error(cli("fetch", target), ExitCode.PERMISSION, "127.0.0.1")
    assert site.hits == {}
    set_fetch(git_ws_root, **LOCAL)
    # Allowed, the connection is made, and TLS (certificate verification) fails against the
    # plain HTTP server: a download failure, not a crash.
    assert_one_line_error(cli("fetch", target), ExitCode.NETWORK, target)


@pytest.mark.slow
def test_a_sandboxed_childs_fetch_goes_through_the_broker(
    git_ws_root: Path, cli: Runner, site: Site, tmp_path: Path
) -> None:
    """A command agent under bubblewrap runs ``agentctl fetch``: its records are read-only, so
    the fetch is sent to the tick's broker, which fetches and writes as the agent."""
    import shutil
    import subprocess

    bwrap = shutil.which("bwrap")
    probe = [bwrap or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    if bwrap is None or subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        pytest.skip("bubblewrap is not usable here")
    set_fetch(git_ws_root, **LOCAL, allow='["127.0.0.1"]')
    task = add_task(cli, "Read the notes")
    report = tmp_path / "child.json"
    argv = script(tmp_path / "scripts", "fetching-child", f"""
        import subprocess
        done = subprocess.run([sys.executable, "-m", "agentctl", "fetch", {url(site, "/notes.md")!r},
                               "--task", os.environ["AGENTCTL_TASK"], "--json"], capture_output=True, text=True)
        pathlib.Path({str(report)!r}).write_text(json.dumps({{"code": done.returncode, "out": done.stdout, "err": done.stderr}}))
        print(json.dumps({{"actions": [{{"type": "noop", "reason": "fetched"}}]}}))
        """)  # fmt: skip
    add_command_agent(cli, "dev-1", argv)
    assert cli("agent", "edit", "dev-1", "--sandbox", "bwrap").code == 0
    assert cli("task", "assign", task, "dev-1").code == 0
    [run] = tick_json(cli, "dev-1")
    child = json.loads(report.read_text())
    assert child["code"] == 0, child
    assert json.loads(child["out"])["doc"]["author"] == "dev-1"
    assert run["outcome"] == "worked", run
    [doc] = cli("doc", "list", "--task", task, "--json").json()["docs"]
    assert doc["source_url"] == url(site, "/notes.md") and doc["author"] == "dev-1"
