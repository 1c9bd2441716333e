"""The dashboard's figures (the page itself is :mod:`webapp.web.home`)."""
