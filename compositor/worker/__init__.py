"""The compositor worker: a signed HTTP service that renders jobs with the engine.

``compositor serve`` runs it. One process by default (an in-process queue, SQLite job records,
files on local disk); many containers sharing one Redis-backed Dramatiq queue, job records in
Redis and files in S3 when scaled out. The modules: ``settings`` (environment), ``app`` and
``routes`` (HTTP), ``service`` (wiring), ``execute`` (one job, start to end), ``store/`` (job
records), ``queues/`` (in-process, Redis), ``fetch`` and ``addresses`` (sources over HTTP),
``sweeper`` (retention), ``callbacks`` (completion callbacks) and ``metrics`` (Prometheus).
"""
