"""The web app: app factory, pages, callbacks, push channel, auth and the CLI."""
