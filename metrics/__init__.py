"""Prometheus metrics: the instruments every process bumps (`instruments`), the HTTP middleware
(`middleware`) and the `/metrics` view that adds up all processes' files and asks the apps'
scrape-time collectors for what only the database and the broker know (`exposition`).

The bottom floor: any app may import it; it imports no app."""
