"""Progress reporting for Nubes scheduler partitions, from a scientific code's own loop.

Dependency-free (standard library only, Python 3.8+). Under `nubes worker`, the partition's process
finds everything it needs in its environment:

    from nubes_progress import Partition

    part = Partition.from_env()
    answer = part.start()
    done, hits = 0, 0
    while True:
        while done < answer.assigned and not part.report_due():
            hits += simulate(done)          # one iteration
            done += 1
        answer = part.report(done)
        if answer.stop or done >= answer.assigned:
            break
    part.finish(done, {"samples": done, "hits": hits})

The service answers every call with the iterations now assigned (cumulative), the estimated time left,
when to report next, and a stop flag. Requests carry idempotency keys and are retried on network errors.
"""

import json
import os
import time
import urllib.error
import urllib.request
import uuid

__all__ = ["Answer", "Partition", "SchedulerError"]


class SchedulerError(Exception):
    """The scheduler refused a call (the code is one of Nubes's error codes, e.g. LEASE_LOST)."""

    def __init__(self, code, message, status):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.status = status


class Answer:
    """What start, report and finish return."""

    def __init__(self, data):
        self.assigned = int(data["assigned"])
        self.done = int(data.get("done", 0))
        self.eta_sec = data.get("etaSec")
        self.next_report_sec = float(data.get("nextReportSec", 20))
        self.stop = bool(data.get("stop", False))
        self.job_state = data.get("jobState")

    def __repr__(self):
        return "Answer(assigned=%d, stop=%s, eta_sec=%r)" % (self.assigned, self.stop, self.eta_sec)


class Partition:
    """One partition of a scheduler job."""

    def __init__(self, api_url, job_id, index, token, retries=4):
        self._base = "%s/system/scheduler/jobs/%s/partitions/%d" % (api_url.rstrip("/"), job_id, int(index))
        self._token = token
        self._retries = retries
        self._t0 = time.monotonic()
        self._next_report = self._t0
        self.job_id = job_id
        self.index = int(index)

    @classmethod
    def from_env(cls, env=None):
        env = os.environ if env is None else env
        missing = [name for name in ("NUBES_API_URL", "NUBES_JOB_ID", "NUBES_PARTITION", "NUBES_PARTITION_TOKEN") if not env.get(name)]
        if missing:
            raise RuntimeError("%s not set: run this under `nubes worker`" % ", ".join(missing))
        return cls(env["NUBES_API_URL"], env["NUBES_JOB_ID"], env["NUBES_PARTITION"], env["NUBES_PARTITION_TOKEN"])

    @staticmethod
    def input(env=None):
        """The job's `input` object."""
        env = os.environ if env is None else env
        return json.loads(env.get("NUBES_INPUT") or "{}")

    def elapsed_sec(self):
        return time.monotonic() - self._t0

    def report_due(self):
        """Whether the next report is due (check it every few iterations: it is cheap)."""
        return time.monotonic() >= self._next_report

    def start(self):
        return self._call("start", {})

    def report(self, done, elapsed_sec=None):
        return self._call("report", {"done": int(done), "elapsedSec": self._elapsed(elapsed_sec)})

    def finish(self, done, result=None, elapsed_sec=None):
        body = {"done": int(done), "elapsedSec": self._elapsed(elapsed_sec)}
        if result is not None:
            body["result"] = result
        return self._call("finish", body)

    def _elapsed(self, elapsed_sec):
        return float(self.elapsed_sec() if elapsed_sec is None else elapsed_sec)

    def _call(self, action, body):
        data = json.dumps(body).encode("utf-8")
        key = str(uuid.uuid4())
        delay = 0.2
        for attempt in range(self._retries):
            request = urllib.request.Request(
                "%s/%s" % (self._base, action),
                data=data,
                method="POST",
                headers={
                    "authorization": "Bearer " + self._token,
                    "content-type": "application/json",
                    "idempotency-key": key,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = Answer(json.loads(response.read().decode("utf-8")))
                    self._next_report = time.monotonic() + answer.next_report_sec
                    return answer
            except urllib.error.HTTPError as error:
                payload = error.read().decode("utf-8", "replace")
                try:
                    info = json.loads(payload)["error"]
                except (ValueError, KeyError, TypeError):
                    info = {"code": "INTERNAL", "message": payload}
                if error.code < 500 or attempt == self._retries - 1:
                    raise SchedulerError(info.get("code"), info.get("message"), error.code)
            except (urllib.error.URLError, OSError):
                if attempt == self._retries - 1:
                    raise
            time.sleep(delay)
            delay *= 2
        raise RuntimeError("unreachable")
