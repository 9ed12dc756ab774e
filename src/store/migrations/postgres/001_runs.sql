-- Runs and their events (an append-only log per run); servers and when each was last seen.
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  strategy TEXT NOT NULL,
  policy TEXT NOT NULL,
  language TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_event_id INTEGER NOT NULL DEFAULT 0,
  result TEXT
);
CREATE INDEX runs_newest ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_status_newest ON runs (status, created_at DESC, run_id DESC);
CREATE TABLE events (
  run_id TEXT NOT NULL,
  id INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (run_id, id)
);
CREATE TABLE servers (
  server_id TEXT PRIMARY KEY,
  seen_at TIMESTAMPTZ NOT NULL
);
