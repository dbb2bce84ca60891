"""HTTPS for the HTTP API: `ecomon serve --tls-cert --tls-key` over real sockets, and the start-up
rules (bad certificate or key files, plain HTTP only on loopback unless --allow-plain-http).

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary. Needs the `openssl` command to
make a self-signed certificate (scripts/install-deps.sh installs it)."""
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import ECOMON, REPO, Server, drain, track

REGISTRY = os.path.join(REPO, "config", "registry")
CERTS = None  # the temporary directory of cert.pem, key.pem, other_key.pem


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="ecomon-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", cert_path("key.pem"), "-out", cert_path("cert.pem"))
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
            cert_path("other_key.pem"))


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert_path(name):
    return os.path.join(CERTS, name)


def client_context():
    """What a careful client does: verify the chain (our self-signed certificate) and the name."""
    return ssl.create_default_context(cafile=cert_path("cert.pem"))


def serve_args(data, *extra):
    return [ECOMON, "serve", "--data", data, "--registry", REGISTRY,
            "--hj212-listen", "127.0.0.1:0"] + list(extra)


def serve_exit(*extra):
    """(exit status, stderr) of an `ecomon serve` expected to refuse to start."""
    data = tempfile.mkdtemp(prefix="ecomon-it-")
    try:
        p = subprocess.run(serve_args(data, *extra), capture_output=True, text=True, timeout=60)
        return p.returncode, p.stderr
    finally:
        shutil.rmtree(data, ignore_errors=True)


class Started:
    """An `ecomon serve` started with exactly the given options (the harness's Server always adds
    --http-listen 127.0.0.1:0); reads the scheme and port from the start-up line."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="ecomon-it-")
        self.proc = track(subprocess.Popen(serve_args(self.dir, *extra), stderr=subprocess.PIPE,
                                           text=True))
        self.log = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("ecomon serve exited: %s" % "".join(self.log))
            self.log.append(line)
            m = re.search(r"HTTP on (https?)://([^:]+):(\d+)/", line)
            if m:
                self.scheme, self.host, self.port = m.group(1), m.group(2), int(m.group(3))
                drain(self.proc, self.log)
                return
        raise RuntimeError("ecomon serve did not start")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode


def https_get(port, path, key=None):
    """(status, body text, headers) of GET path over HTTPS, the certificate verified."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=client_context())
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer " + key} if key else {})
        r = conn.getresponse()
        return r.status, r.read().decode(), r.headers
    finally:
        conn.close()


def raw_exchange(port, data, timeout=15):
    """Sends bytes to the port and returns everything read until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--tls-cert", cert_path("cert.pem"), "--tls-key", cert_path("key.pem"))
        cls.port = cls.server.http_port

    @classmethod
    def tearDownClass(cls):
        # A clean exit (and no sanitizer report) after all the failed handshakes above.
        rc = cls.server.stop()
        cls.server.close()
        if rc != 0:
            raise AssertionError("ecomon serve exited %s: %s" % (rc, "".join(cls.server.log)))

    def handshake_failures(self):
        status, text, _ = https_get(self.port, "/metrics", self.server.key)
        self.assertEqual(status, 200, text)
        for line in text.splitlines():
            if line.startswith("ecomon_tls_handshake_failures_total "):
                return float(line.split()[-1])
        self.fail("no ecomon_tls_handshake_failures_total in /metrics")

    def test_start_up_line_says_https(self):
        self.assertTrue(any("HTTP on https://127.0.0.1:%d/" % self.port in l for l in self.server.log),
                        self.server.log)

    def test_handshake_presents_the_configured_certificate(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
            with client_context().wrap_socket(raw, server_hostname="127.0.0.1") as s:
                self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
                with open(cert_path("cert.pem")) as f:
                    expected = ssl.PEM_cert_to_DER_cert(f.read())
                self.assertEqual(s.getpeercert(binary_form=True), expected)
                self.assertIsNone(s.compression())

    def test_healthz_over_https_has_strict_transport_security(self):
        status, text, headers = https_get(self.port, "/healthz")
        self.assertEqual(status, 200, text)
        self.assertEqual(headers.get("Strict-Transport-Security"), "max-age=31536000")

    def test_api_needs_its_key_over_https_too(self):
        status, text, _ = https_get(self.port, "/api/v1/sites", self.server.key)
        self.assertEqual(status, 200, text)
        self.assertIn("sites", text)
        status, text, _ = https_get(self.port, "/api/v1/sites")
        self.assertEqual(status, 401, text)

    def test_event_stream_over_https(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=client_context())
        try:
            conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + self.server.key})
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "text/event-stream")
            self.assertIn("max-age", r.headers["Strict-Transport-Security"])
            self.assertEqual(r.fp.readline(), b": connected\n")
        finally:
            conn.close()
        self.assertEqual(https_get(self.port, "/healthz")[0], 200)

    def test_several_requests_on_one_connection(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=client_context())
        try:
            for _ in range(3):
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                r.read()
        finally:
            conn.close()

    def test_plain_http_to_the_https_port_gets_no_http_answer_and_is_counted(self):
        before = self.handshake_failures()
        answer = raw_exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.assertFalse(answer.startswith(b"HTTP/"), answer)
        # Plain HTTP through an ordinary client fails too, and the server goes on serving.
        with self.assertRaises((http.client.HTTPException, OSError)):
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=10).read()
        status, _, _ = https_get(self.port, "/healthz")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(self.handshake_failures(), max(1, before + 1))

    def test_garbage_closes_the_connection_and_the_server_keeps_serving(self):
        before = self.handshake_failures()
        answer = raw_exchange(self.port, bytes(range(256)) * 8)
        self.assertFalse(answer.startswith(b"HTTP/"), answer)
        # A TLS record header announcing a huge record, then nothing more.
        answer = raw_exchange(self.port, b"\x16\x03\x01\xff\xff" + b"\x00" * 100, timeout=20)
        self.assertFalse(answer.startswith(b"HTTP/"), answer)
        status, _, _ = https_get(self.port, "/healthz")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(self.handshake_failures(), before + 2)
        self.assertIsNone(self.server.proc.poll())

    def test_a_client_that_never_starts_the_handshake_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        started = time.time()
        try:
            self.assertEqual(s.recv(100), b"")  # closed by the 10 s handshake timeout
        except ConnectionResetError:
            pass
        finally:
            s.close()
        self.assertLess(time.time() - started, 25)

    def test_a_tls_1_1_client_is_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cert_path("cert.pem"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 offers TLS 1.1 only at level 0
        except (ValueError, ssl.SSLError, AttributeError) as e:
            self.skipTest("this Python cannot build a TLS 1.1 client: %s" % e)
        self.assert_refused(ctx, "TLSV1_ALERT_PROTOCOL_VERSION")

    def test_a_tls_1_2_client_without_forward_secrecy_is_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cert_path("cert.pem"))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.set_ciphers("AES128-SHA:AES256-SHA:@SECLEVEL=0")  # RSA key exchange, CBC
        except ssl.SSLError as e:
            self.skipTest("this Python cannot offer those ciphers: %s" % e)
        self.assert_refused(ctx, "SSLV3_ALERT_HANDSHAKE_FAILURE")

    def assert_refused(self, ctx, server_alert):
        before = self.handshake_failures()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
            try:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    self.fail("the handshake succeeded: %s %s" % (s.version(), s.cipher()))
            except ssl.SSLError as e:
                if e.reason == "NO_PROTOCOLS_AVAILABLE" or e.reason == "NO_CIPHERS_AVAILABLE":
                    self.skipTest("this OpenSSL cannot make that client: %s" % e)
                self.assertEqual(e.reason, server_alert, e)
        self.assertGreaterEqual(self.handshake_failures(), before + 1)


class StartupTest(unittest.TestCase):
    def test_a_key_that_does_not_match_the_certificate_is_refused(self):
        rc, err = serve_exit("--http-listen", "127.0.0.1:0", "--tls-cert", cert_path("cert.pem"),
                             "--tls-key", cert_path("other_key.pem"))
        self.assertEqual(rc, 2, err)
        self.assertIn(cert_path("other_key.pem"), err)
        self.assertIn("does not match", err)

    def test_a_missing_certificate_file_is_refused(self):
        missing = cert_path("no-such-cert.pem")
        rc, err = serve_exit("--http-listen", "127.0.0.1:0", "--tls-cert", missing,
                             "--tls-key", cert_path("key.pem"))
        self.assertEqual(rc, 2, err)
        self.assertIn(missing, err)

    def test_files_of_the_wrong_kind_are_refused(self):
        rc, err = serve_exit("--http-listen", "127.0.0.1:0", "--tls-cert", cert_path("key.pem"),
                             "--tls-key", cert_path("key.pem"))
        self.assertEqual(rc, 2, err)
        self.assertIn("TLS certificate " + cert_path("key.pem"), err)
        rc, err = serve_exit("--http-listen", "127.0.0.1:0", "--tls-cert", cert_path("cert.pem"),
                             "--tls-key", cert_path("cert.pem"))
        self.assertEqual(rc, 2, err)
        self.assertIn("TLS key " + cert_path("cert.pem"), err)

    def test_a_certificate_without_a_key_is_refused(self):
        rc, err = serve_exit("--http-listen", "127.0.0.1:0", "--tls-cert", cert_path("cert.pem"))
        self.assertEqual(rc, 2, err)
        self.assertIn("--tls-key", err)

    def test_plain_http_on_a_non_loopback_address_is_refused(self):
        rc, err = serve_exit("--http-listen", "0.0.0.0:0")
        self.assertEqual(rc, 2, err)
        self.assertIn("plain HTTP", err)
        self.assertIn("--tls-cert", err)
        self.assertIn("--allow-plain-http", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_plain_http_on_any_address_when_allowed(self):
        s = Started("--http-listen", "0.0.0.0:0", "--allow-plain-http")
        try:
            self.assertEqual(s.scheme, "http")
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % s.port, timeout=10) as r:
                self.assertEqual(r.status, 200)
        finally:
            self.assertEqual(s.close(), 0, "".join(s.log))

    def test_https_on_any_address_from_the_config_file(self):
        config = cert_path("serve.toml")
        with open(config, "w") as f:
            f.write('http_listen = "0.0.0.0:0"\ntls_cert = "%s"\ntls_key = "%s"\n'
                    % (cert_path("cert.pem"), cert_path("key.pem")))
        s = Started("--config", config)
        try:
            self.assertEqual(s.scheme, "https")
            status, _, headers = https_get(s.port, "/healthz")
            self.assertEqual(status, 200)
            self.assertIn("Strict-Transport-Security", headers)
        finally:
            self.assertEqual(s.close(), 0, "".join(s.log))

    def test_allow_plain_http_from_the_config_file(self):
        config = cert_path("plain.toml")
        with open(config, "w") as f:
            f.write('http_listen = "0.0.0.0:0"\nallow_plain_http = true\n')
        s = Started("--config", config)
        try:
            self.assertEqual(s.scheme, "http")
        finally:
            self.assertEqual(s.close(), 0, "".join(s.log))


if __name__ == "__main__":
    unittest.main(verbosity=2)
