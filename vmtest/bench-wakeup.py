#!/usr/bin/env python3
"""Where a waiter's wake-up time goes, from a trace of fence_bench -L -m.

usage: bench-wakeup.py TRACE > table.md

TRACE is ftrace's text output with the events sched_waking, sched_wakeup,
sched_switch (filtered to fence_bench) and dma_fence_signaled, and the
trace_marker lines fence_bench -m writes around each measured wait. For
each wait, the times of these steps are taken relative to the fence's
signal (the dma_fence_signaled event of vb2's fence), the moment
fence_bench measures from:

  waking     the waker's call that wakes the waiter for the last time
             before it runs (negative: before the fence signalled)
  wakeup     the waiter is runnable
  running    the scheduler switches to it
  returned   its poll() has returned: the "woke" marker

A wait is left out when one of them is missing; the table says how many
were.
"""
import re
import statistics
import sys

LINE = re.compile(r'^\s*(?P<task>.+?)-(?P<pid>\d+)\s+\[\d+\]\s+\S+\s+'
                  r'(?P<ts>\d+\.\d+): (?P<event>\w+): (?P<rest>.*)$')
MARK = re.compile(r'fence_bench (?P<what>wait|woke) (?P<kind>\S+) pid (?P<pid>\d+)')
SEGMENTS = ('waking', 'wakeup', 'running', 'returned')


def parse(path):
    events = []
    with open(path, errors='replace') as f:
        for line in f:
            m = LINE.match(line)
            if m:
                events.append((float(m['ts']) * 1e6, m['event'], m['rest']))
    return events


def field(rest, name):
    m = re.search(r'\b' + name + r'=(\S+)', rest)
    return m.group(1) if m else None


def waits(events):
    """Yield (kind, [step times relative to the signal, in us]) or (kind, None)."""
    i = 0
    while i < len(events):
        ts, ev, rest = events[i]
        m = MARK.search(rest) if ev == 'tracing_mark_write' else None
        if not m or m['what'] != 'wait':
            i += 1
            continue
        kind, pid = m['kind'], m['pid']
        signal = end = None
        waking, wakeup, running = [], [], []
        j = i + 1
        while j < len(events):
            ts2, ev2, rest2 = events[j]
            if ev2 == 'tracing_mark_write':
                m2 = MARK.search(rest2)
                if m2 and m2['pid'] == pid:
                    end = ts2 if m2['what'] == 'woke' else None
                    break
            elif ev2 == 'dma_fence_signaled':
                if signal is None and field(rest2, 'driver') == 'vb2':
                    signal = ts2
            elif ev2 == 'sched_waking' and field(rest2, 'pid') == pid:
                waking.append(ts2)
            elif ev2 == 'sched_wakeup' and field(rest2, 'pid') == pid:
                wakeup.append(ts2)
            elif ev2 == 'sched_switch' and field(rest2, 'next_pid') == pid:
                running.append(ts2)
            j += 1
        i = j
        if end is None or signal is None or not running:
            yield kind, None
            continue
        run = running[-1]
        wk = [t for t in waking if t <= run]
        wu = [t for t in wakeup if t <= run]
        if not wk or not wu:
            yield kind, None
            continue
        yield kind, [wk[-1] - signal, wu[-1] - signal, run - signal, end - signal]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split('\n')[2])
    per_kind = {}
    skipped = {}
    for kind, seg in waits(parse(sys.argv[1])):
        if seg is None:
            skipped[kind] = skipped.get(kind, 0) + 1
        else:
            per_kind.setdefault(kind, []).append(seg)
    if not per_kind:
        sys.exit('bench-wakeup.py: no complete wait in ' + sys.argv[1])
    print('| waiter | waits | ' + ' | '.join(SEGMENTS) + ' | left out |')
    print('|---' * (len(SEGMENTS) + 3) + '|')
    for kind in sorted(per_kind):
        rows = per_kind[kind]
        med = [statistics.median(r[k] for r in rows) for k in range(len(SEGMENTS))]
        print('| %s | %d | %s | %d |' % (
            kind, len(rows), ' | '.join('%+.1f' % v for v in med),
            skipped.get(kind, 0)))
    for kind in sorted(set(skipped) - set(per_kind)):
        print('| %s | 0 | %s | %d |' % (kind, ' | '.join('-' * len(SEGMENTS)),
                                       skipped[kind]))
    print()
    print('Medians in us after the fence signalled, on the trace\'s own clock '
          '(the events and markers slow every kind alike).')


if __name__ == '__main__':
    main()
