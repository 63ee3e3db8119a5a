"""The token cache shared by faxprint processes: one token request for many jobs."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from faxprint.errors import ConfigError
from faxprint.transports.tokens import Token, TokenCache
from tests.conftest import REPO


class TokenServer(ThreadingHTTPServer):
    """A token endpoint on loopback that counts its requests and answers slowly."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.count = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # answers wait for it: all processes are in line

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/token"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server = self.server
        assert isinstance(server, TokenServer)
        with server.lock:
            server.count += 1
            number = server.count
        server.release.wait(30)
        body = json.dumps({"access_token": f"token-{number}", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


CLIENT = """
import json, sys, time, urllib.request
from pathlib import Path
from faxprint.transports.tokens import Token, TokenCache

def fetch(cached):
    answer = json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[2], b"", method="POST")))
    return Token(answer["access_token"], time.time() + answer["expires_in"])

print("waiting", flush=True)
print(TokenCache(Path(sys.argv[1])).get(fetch).access_token, flush=True)
"""


def test_many_processes_at_once_make_one_token_request(
    tmp_path: Path, token_server: TokenServer
) -> None:
    cache = tmp_path / "tokens" / "default.json"
    command = [sys.executable, "-c", CLIENT, str(cache), token_server.url]
    processes = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(8)
    ]
    for process in processes:  # each is past its imports and about to ask
        assert process.stdout is not None
        assert process.stdout.readline() == "waiting\n"
    token_server.release.set()
    tokens = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert tokens == {"token-1"}
    assert token_server.count == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700


def test_a_token_near_expiry_is_refreshed_and_a_stale_refresh_token_is_not_used(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    cache = TokenCache(tmp_path / "t" / "a.json", clock=lambda: now[0])
    asked: list[Token | None] = []

    def fetch(cached: Token | None) -> Token:
        asked.append(cached)
        return Token(f"a{len(asked)}", now[0] + 3600, "r", now[0] + 7200)

    assert cache.get(fetch).access_token == "a1"
    now[0] += 3000  # 600 s left: still good
    assert cache.get(fetch).access_token == "a1"
    now[0] += 400  # 200 s left, under the 300 s margin: refreshed with the refresh token
    assert cache.get(fetch).access_token == "a2"
    assert asked[1] is not None and asked[1].access_token == "a1"
    now[0] += 7200  # everything expired: a full grant
    assert cache.get(fetch).access_token == "a3" and asked[2] is None


def test_a_damaged_file_means_a_new_token(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "t" / "a.json")
    cache.path.parent.mkdir(mode=0o700)
    cache.path.write_text('{"access_token": "x"')
    assert cache.get(lambda _: Token("new", 9e9)).access_token == "new"


def test_a_refused_token_is_renewed_once_among_all_processes(tmp_path: Path) -> None:
    now = [1000.0]
    asked: list[Token | None] = []

    def fetch(cached: Token | None) -> Token:
        asked.append(cached)
        return Token(f"a{len(asked)}", now[0] + 3600, f"r{len(asked)}", now[0] + 86400)

    path = tmp_path / "t" / "a.json"
    one, other = TokenCache(path, clock=lambda: now[0]), TokenCache(path, clock=lambda: now[0])
    refused = one.get(fetch)
    assert (refused.access_token, asked) == ("a1", [None])
    # Both processes are refused the same token: the first renews it with the refresh
    # token (a refresh continues the session; a grant would open another one) ...
    assert other.renew(refused, fetch).access_token == "a2"
    assert asked[1] is not None and asked[1].access_token == "a1"
    # ... and the second takes the new token without asking.
    assert one.renew(refused, fetch).access_token == "a2" and len(asked) == 2
    now[0] += 90000  # the refresh token has expired too: a full grant
    assert one.renew(Token("a2", 0), fetch).access_token == "a3" and asked[2] is None


def test_links_and_open_folders_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir(mode=0o700)
    (folder / "a.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(ConfigError, match="token file"):
        TokenCache(folder / "a.json").get(lambda _: Token("x", 9e9))
    assert not (tmp_path / "elsewhere.json").exists()
    folder.chmod(0o755)
    with pytest.raises(ConfigError, match="no one else can enter"):
        TokenCache(folder / "b.json").get(lambda _: Token("x", 9e9))


def test_a_holder_killed_with_the_lock_does_not_block_the_others(tmp_path: Path) -> None:
    cache = tmp_path / "t" / "a.json"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\n"
         "from faxprint.transports.tokens import TokenCache\n"
         "with TokenCache(Path(sys.argv[1]))._locked():\n"
         "    print('locked', flush=True); time.sleep(600)\n", str(cache)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(30)
    holder.stdout.close()
    assert TokenCache(cache).get(lambda _: Token("after", 9e9)).access_token == "after"


def test_a_token_never_shows_its_secrets() -> None:
    token = Token("secret-access", 123.0, "secret-refresh", 456.0)
    assert "secret" not in repr(token) and "secret" not in str(token)
