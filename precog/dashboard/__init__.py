"""The desk's dashboard: one server (`precog dashboard`) with the page (Plotly Dash), its API
(FastAPI, OpenAPI at /docs), the live stream (/api/live) and Prometheus metrics (/metrics),
reading schema marts as bi_reader through the queries of analyses/."""
