"""A local demo and test network of Blogger-style blogs and a news feed, served on loopback.

This package owns the stand-in for the outside world that demos and tests crawl: `site` (the
blogs and news site, their pages, feeds, sitemaps and robots.txt, rendered on request),
`content` (the curated demo texts), `network` (the demo network built from them), `templates`
(the markup of each Blogger template family) and `server` (threaded loopback HTTP servers with a
request log and fault injection).

    from rjwatch.demo.network import demo_network
    from rjwatch.demo.server import serve_network

    with serve_network(demo_network()) as servers:
        print(servers["ledger-en"].base_url)
"""
