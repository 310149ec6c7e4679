"""Who may ask: auth modes none / header / basic, API tokens, rate limiting, CORS and the
framing policy, each against a real uvicorn on 127.0.0.1 (the header-mode proxy is a
second loopback address, 127.0.0.2, so "from the proxy" and "from elsewhere" are real
different connections)."""

from __future__ import annotations

import concurrent.futures

import pytest
from helpers import GUIDE, AppServer, client

from assistant.core.errors import AuthError, SettingsError
from assistant.web.app import create_app
from assistant.web.auth import check_password, hash_password, hash_token, read_users
from assistant.web.chat import mount
from assistant.web.ratelimit import RateLimiter

PROXY = "127.0.0.2"  # the reverse proxy's address in these tests
TOKEN_A, TOKEN_B = "livc_token-for-tool-a", "livc_token-for-tool-b"
QUESTION = {"question": "Wie leidt de LIVC-R?"}


def app_settings(corpus_index, tmp_path_factory, **values):
    folder = tmp_path_factory.mktemp("auth")
    return corpus_index.settings.replace(feedback_db=str(folder / "feedback.sqlite"), **values)


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.txt"
    path.write_text(f"# LIVC users\nalice:{hash_password('geheim wachtwoord')}\n\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokens():
    return (f"tool-a:{hash_token(TOKEN_A)}", f"tool-b:{hash_token(TOKEN_B)}")


# ---------------------------------------------------------------------------
# Hashes and settings


def test_passwords_and_tokens_are_stored_hashed(tmp_path):
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert check_password("s3cret", stored) and not check_password("S3cret", stored)
    assert not check_password("s3cret", "scrypt$bad") and not check_password("s3cret", "plain")
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    bad = tmp_path / "users.txt"
    bad.write_text("bob:plaintext\n", encoding="utf-8")
    with pytest.raises(AuthError, match="users.txt:1"):
        read_users(bad)


@pytest.mark.parametrize(
    "values, words",
    [
        ({"auth": "oauth"}, "auth must be one of"),
        ({"auth": "basic"}, "needs users_file"),
        ({"auth": "header", "trusted_proxies": ()}, "needs trusted_proxies"),
        ({"trusted_proxies": ("proxy.local",)}, "not an IP address"),
        ({"api_tokens": ("tool:abc",)}, "api_tokens entries"),
        ({"frame_origins": ("https://intranet.be/pagina",)}, "not an origin"),
        ({"allowed_origins": ("*",)}, "not an origin"),
        ({"auth_header": "X User"}, "header name"),
        ({"rate_limit": -1}, "rate_limit"),
    ],
)
def test_bad_intranet_settings_are_refused(corpus_index, values, words):
    with pytest.raises(SettingsError, match=words):
        corpus_index.settings.replace(**values)


# ---------------------------------------------------------------------------
# Tokens (auth none)


@pytest.fixture(scope="module")
def open_server(corpus_index, tmp_path_factory, tokens):
    settings = app_settings(
        corpus_index, tmp_path_factory, api_tokens=tokens, rate_limit=0, allowed_origins=("http://127.0.0.1:9",)
    )
    with AppServer(create_app(settings, corpus_index.assistant)) as running:
        yield running


def test_wrong_token_is_a_401_even_where_no_login_is_needed(open_server):
    with client(open_server) as http:
        assert http.get("/api/v1/documents").status_code == 200  # auth none: open
        good = http.get("/api/v1/documents", headers={"Authorization": f"Bearer {TOKEN_A}"})
        assert good.status_code == 200
        wrong = http.post("/api/v1/ask", json=QUESTION, headers={"Authorization": "Bearer livc_guessed"})
        assert wrong.status_code == 401
        assert wrong.json() == {"code": "invalid_token", "message": "De API-sleutel is ongeldig of ingetrokken."}


def test_cors_only_for_allowed_origins(open_server):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with client(open_server) as http:
        allowed = http.options("/api/v1/ask", headers={"Origin": "http://127.0.0.1:9", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9"
        assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
        other = http.options("/api/v1/ask", headers={"Origin": "http://127.0.0.1:8", **preflight})
        assert other.status_code == 400 and "Access-Control-Allow-Origin" not in other.headers
        simple = http.get("/api/v1/documents", headers={"Origin": "http://127.0.0.1:8"})
        assert "Access-Control-Allow-Origin" not in simple.headers
        # A refused token still tells an allowed page why, in Dutch.
        refused = http.get("/api/v1/documents", headers={"Origin": "http://127.0.0.1:9", "Authorization": "Bearer x"})
        assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9"


def test_default_framing_is_same_origin_only(open_server):
    with client(open_server) as http:
        for path in ("/embed", f"/documenten/{GUIDE}", "/api/v1/documents", "/docs"):
            response = http.get(path)
            policy = response.headers["Content-Security-Policy"]
            assert policy.count("frame-ancestors") == 1 and policy.endswith("frame-ancestors 'self'"), (path, policy)
            assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


# ---------------------------------------------------------------------------
# Basic: a users file, protecting chat, API, embed page and documents alike


@pytest.fixture(scope="module")
def basic_server(corpus_index, tmp_path_factory, users_file, tokens):
    settings = app_settings(
        corpus_index,
        tmp_path_factory,
        auth="basic",
        users_file=str(users_file),
        api_tokens=tokens,
        rate_limit=0,
        frame_origins=("https://intranet.stad.be",),
    )
    web = create_app(settings, corpus_index.assistant)
    _gate_of(web).failures.limit = 0  # these tests' wrong passwords are not an attack to throttle
    app = mount(web, corpus_index.assistant, settings)
    with AppServer(app) as running:
        yield running


PROTECTED = ["/", "/api/v1/documents", "/embed", f"/documenten/{GUIDE}", "/documenten/", "/docs", "/openapi.json"]


@pytest.mark.parametrize("path", PROTECTED)
def test_basic_protects_every_part(basic_server, path):
    with client(basic_server) as http:
        refused = http.get(path, headers={"Accept": "text/html"})
        assert refused.status_code == 401, path
        assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")
        if path.startswith("/api/") or path == "/openapi.json":  # programs get JSON, people a page
            assert refused.json()["message"].startswith("Aanmelden is vereist")
        else:
            assert "Aanmelden is vereist" in refused.text and '<html lang="nl">' in refused.text
        assert http.get(path, auth=("alice", "fout")).status_code == 401
        assert http.get(path, auth=("mallory", "geheim wachtwoord")).status_code == 401
        assert http.get(path, auth=("alice", "geheim wachtwoord")).status_code == 200, path
        assert http.get(path, headers={"Authorization": f"Bearer {TOKEN_B}"}).status_code == 200, path


def test_basic_refusal_of_the_api_is_dutch_json(basic_server):
    with client(basic_server) as http:
        refused = http.post("/api/v1/ask", json=QUESTION)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert "gebruikersnaam en wachtwoord" in refused.json()["message"]
        answered = http.post("/api/v1/ask", json=QUESTION, auth=("alice", "geheim wachtwoord"))
        assert answered.status_code == 200 and answered.json()["citations"]


def test_health_and_the_widget_script_need_no_login(basic_server):
    with client(basic_server) as http:
        for path in ("/healthz", "/readyz", "/widget.js"):
            assert http.get(path).status_code == 200, path


def test_configured_origins_may_frame_the_app(basic_server):
    with client(basic_server, auth=("alice", "geheim wachtwoord")) as http:
        for path in ("/", "/embed", f"/documenten/{GUIDE}"):
            policy = http.get(path).headers["Content-Security-Policy"]
            assert "frame-ancestors 'self' https://intranet.stad.be" in policy, (path, policy)


# ---------------------------------------------------------------------------
# Header: single sign-on, honoured only from the proxy


@pytest.fixture(scope="module")
def header_server(corpus_index, tmp_path_factory, tokens):
    settings = app_settings(
        corpus_index,
        tmp_path_factory,
        auth="header",
        trusted_proxies=(PROXY,),
        api_tokens=tokens,
        rate_limit=2,
        rate_window=60,
    )
    with AppServer(create_app(settings, corpus_index.assistant)) as running:
        yield running


def test_header_is_honoured_only_from_the_proxy(header_server):
    sso = {"X-Remote-User": "an.peeters@stad.be"}
    with client(header_server, source=PROXY) as proxy, client(header_server) as direct:
        assert proxy.get("/api/v1/documents", headers=sso).status_code == 200
        assert proxy.get(f"/documenten/{GUIDE}", headers=sso).status_code == 200
        assert proxy.get("/api/v1/documents").status_code == 401  # the proxy sent no user
        assert proxy.get("/api/v1/documents", headers={"X-Remote-User": "x" * 300}).status_code == 401
        # The same header straight from another address, even claiming to come via the proxy.
        forged = direct.get("/api/v1/documents", headers={**sso, "X-Forwarded-For": PROXY})
        assert forged.status_code == 401
        assert forged.json()["message"].startswith("U bent niet aangemeld")
        assert direct.get("/embed", headers={**sso, "Accept": "text/html"}).status_code == 401
        # Programs with a token do not need the proxy.
        assert direct.get("/api/v1/documents", headers={"Authorization": f"Bearer {TOKEN_A}"}).status_code == 200


def test_rate_limit_is_per_user(header_server):
    """rate_limit 2 per minute: each SSO user has their own budget."""
    with client(header_server, source=PROXY) as proxy:
        first = [proxy.get("/api/v1/documents", headers={"X-Remote-User": "jan"}).status_code for _ in range(3)]
        assert first == [200, 200, 429]
        assert proxy.get("/api/v1/documents", headers={"X-Remote-User": "els"}).status_code == 200
        # Without a user header, the forwarded client address is the key (and the user is refused anyway).
        assert proxy.get("/healthz", headers={"X-Remote-User": "jan"}).status_code == 200


# ---------------------------------------------------------------------------
# Rate limiting: a burst gets 429 with Retry-After; everyone else keeps being answered


@pytest.fixture(scope="module")
def limited_server(corpus_index, tmp_path_factory, tokens):
    settings = app_settings(corpus_index, tmp_path_factory, api_tokens=tokens, rate_limit=3, rate_window=60)
    with AppServer(create_app(settings, corpus_index.assistant)) as running:
        yield running


def test_a_burst_over_the_limit_gets_429_and_others_are_still_answered(limited_server):
    burst = {"Authorization": f"Bearer {TOKEN_A}"}

    def one(_):
        with client(limited_server) as http:
            return http.post("/api/v1/ask", json=QUESTION, headers=burst)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [429] * 5, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["code"] == "rate_limited" and "te veel vragen" in body["message"]
    assert refused.headers["Retry-After"] in body["message"]
    with client(limited_server) as http:
        other = http.post("/api/v1/ask", json=QUESTION, headers={"Authorization": f"Bearer {TOKEN_B}"})
        assert other.status_code == 200 and other.json()["citations"]
        anonymous = http.post("/api/v1/ask", json=QUESTION)  # counted by client address
        assert anonymous.status_code == 200
        assert http.get("/healthz").status_code == 200


def test_sliding_window_frees_a_slot_when_the_oldest_request_leaves():
    now = [0.0]
    limiter = RateLimiter(limit=2, window=10, clock=lambda: now[0])
    assert limiter.hit("a").allowed
    now[0] = 1.0
    assert limiter.hit("a").allowed
    refused = limiter.hit("a")
    assert not refused.allowed and refused.retry_after == 9
    now[0] = 4.0
    assert limiter.hit("a").retry_after == 6 and limiter.hit("b").allowed
    now[0] = 10.01
    assert limiter.hit("a").allowed  # the request at t=0 left the window
    assert not limiter.hit("a").allowed
    assert RateLimiter(limit=0, window=1).hit("x").allowed  # 0 = no limit


# ---------------------------------------------------------------------------
# A users file that cannot be used stops the app at start, in one line


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, small_cache, embedder):
    """A built index of the small corpus (its embedding cache pre-filled: no embedding)."""
    from helpers import build_small_index

    return build_small_index(tmp_path_factory.mktemp("small-index"), small_cache, embedder)


@pytest.mark.server
@pytest.mark.parametrize(
    "content, words",
    [
        (None, "cannot read users_file"),
        ("alice:plaintext\n", "users.txt:1: expected 'user:scrypt$...'"),
        ("alice:scrypt$bad\n", "users.txt:1: expected 'user:scrypt$...'"),
        ("# nobody yet\n", "holds no users"),
    ],
)
def test_a_users_file_that_cannot_be_used_stops_app_py_with_one_line(small_index, tmp_path, content, words):
    from helpers import AppProcess

    users = tmp_path / "users.txt"
    if content is not None:
        users.write_text(content, encoding="utf-8")
    app = AppProcess(small_index, tmp_path, LIVC_AUTH="basic", LIVC_USERS_FILE=str(users)).start()
    try:
        code = app.process.wait(timeout=120)  # before the fix: it served (and answered 500s)
    finally:
        app.stop()
    output = app.output.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 1, output
    assert len(lines) == 1 and lines[0].startswith("app.py: error: ") and words in lines[0], output
    assert "Traceback" not in output and "open http" not in output


# ---------------------------------------------------------------------------
# Basic under attack: password checks off the event loop, no user enumeration by
# timing, failed sign-ins throttled per address and per user name


def _gate_of(app):
    """The Gate the access middleware of `app` uses."""
    from assistant.web.auth import Access

    return next(m.kwargs["gate"] for m in app.user_middleware if m.cls is Access)


@pytest.fixture
def guarded(tmp_path):
    """create_app alone (no index needed): basic sign-on for alice and bob."""
    from helpers import CORPUS, settings_for

    users = tmp_path / "users.txt"
    users.write_text(
        f"alice:{hash_password('geheim wachtwoord')}\nbob:{hash_password('ander wachtwoord')}\n", encoding="utf-8"
    )
    settings = settings_for(CORPUS, tmp_path / "index", auth="basic", users_file=str(users), rate_limit=0)
    app = create_app(settings)
    with AppServer(app) as running:
        yield running, _gate_of(app)


def _median_ms(http, path: str, n: int, **kwargs) -> float:
    import statistics
    import time

    times = []
    for _ in range(n):
        started = time.perf_counter()
        http.get(path, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def test_password_guessing_does_not_stall_the_server(guarded):
    import threading

    server, gate = guarded
    gate.failures.limit = 0  # no throttling here: every guess is hashed
    with client(server) as http:
        http.get("/healthz")
        quiet = _median_ms(http, "/healthz", 30)
    stop = threading.Event()
    guesses = []

    def guess():
        with client(server) as http:
            while not stop.is_set():
                guesses.append(http.get("/openapi.json", auth=("alice", "fout")).status_code)

    guessers = [threading.Thread(target=guess, daemon=True) for _ in range(12)]
    for t in guessers:
        t.start()
    try:
        with client(server) as http:
            while len(guesses) < 12:  # every guesser is under way
                http.get("/healthz")
            loaded = _median_ms(http, "/healthz", 30)
    finally:
        stop.set()
        for t in guessers:
            t.join(timeout=30)
    assert set(guesses) == {401}
    # Before: scrypt ran on the event loop and /healthz waited for the queue of guesses
    # (1.6 ms -> 620 ms with twelve guessers, a ratio of hundreds).
    assert loaded < 10 * quiet + 60, (quiet, loaded)


def test_an_unknown_user_name_is_refused_as_slowly_as_a_known_one(guarded):
    server, gate = guarded
    gate.failures.limit = 0
    with client(server) as http:
        http.get("/openapi.json", auth=("alice", "fout"))
        known = unknown = 0.0
        for _ in range(3):  # interleaved, so a busy moment of the machine hits both
            known += _median_ms(http, "/openapi.json", 5, auth=("alice", "fout"))
            unknown += _median_ms(http, "/openapi.json", 5, auth=("mallory", "fout"))
        refused = http.get("/openapi.json", auth=("mallory", "fout"))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert known > 10 and unknown > 10, (known, unknown)  # both paid for a hash (about 60 ms each)
    assert 0.5 < unknown / known < 2.0, (known, unknown)  # before: 73 ms against 1 ms


def test_failed_sign_ins_are_throttled_per_address_and_per_user(guarded):
    from assistant.web.auth import FAILURE_LIMIT

    server, _ = guarded
    with client(server, source="127.0.0.2") as guesser:
        statuses = [
            guesser.get("/openapi.json", auth=("alice", f"gok {i}")).status_code for i in range(FAILURE_LIMIT + 1)
        ]
        assert statuses == [401] * FAILURE_LIMIT + [429]
        throttled = guesser.get("/openapi.json", auth=("bob", "ander wachtwoord"))  # this address: even right
        assert throttled.status_code == 429 and 1 <= int(throttled.headers["Retry-After"]) <= 300
        body = throttled.json()
        assert body["code"] == "rate_limited" and body["message"].startswith("Te veel mislukte aanmeldpogingen")
        assert throttled.headers["Retry-After"] in body["message"]
        page = guesser.get("/embed", headers={"Accept": "text/html"}, auth=("alice", "fout"))
        assert page.status_code == 429 and "Te veel mislukte aanmeldpogingen" in page.text
    # alice's name is throttled from every address now; bob, elsewhere, still signs in.
    with client(server, source="127.0.0.3") as other:
        assert other.get("/openapi.json", auth=("alice", "geheim wachtwoord")).status_code == 429
        assert other.get("/openapi.json", auth=("bob", "ander wachtwoord")).status_code == 200


def test_a_browser_that_signed_in_is_not_locked_out_by_guessing(guarded):
    from assistant.web.auth import FAILURE_LIMIT

    server, _ = guarded
    with client(server) as alice:
        assert alice.get("/openapi.json", auth=("alice", "geheim wachtwoord")).status_code == 200
        with client(server, source="127.0.0.4") as guesser:
            for i in range(FAILURE_LIMIT + 1):
                guesser.get("/openapi.json", auth=("alice", f"gok {i}"))
        assert alice.get("/openapi.json", auth=("alice", "geheim wachtwoord")).status_code == 200
