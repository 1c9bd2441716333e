"""Helpers shared by tests and benchmarks."""

import subprocess
import time


def run_measuring_memory(command: list[str], env: dict[str, str]
                         ) -> tuple[int, float, subprocess.CompletedProcess[str]]:
    """Run ``command`` sampling its resident memory; return peak bytes, seconds, outcome."""
    import psutil

    started = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        watched, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    return peak, seconds, subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def machine_cpu_seconds() -> float:
    """CPU seconds all processes used since boot (guest time is inside user time)."""
    import psutil

    times = psutil.cpu_times()._asdict()
    return sum(times.get(name, 0.0) for name in
               ("user", "nice", "system", "irq", "softirq", "steal"))
