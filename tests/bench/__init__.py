"""``make bench`` (``python -m tests.bench [pages] [inbox] [fanout]``): benchmarks that
report figures next to baselines measured in the same run; they never assert timings.

* :mod:`tests.bench.pages`: rendering a thread with 500 replies;
* :mod:`tests.bench.inbox`: signed activities POSTed to a real uvicorn instance;
* :mod:`tests.bench.fanout`: a group's Announce to many inboxes through the delivery queue.

No module here is named ``test_*``: pytest does not collect them.
"""
