"""A fake feed server and realistic feeds: RSS 2.0 (https://www.rssboard.org/rss-specification),
Atom (RFC 4287, https://www.rfc-editor.org/rfc/rfc4287) and a Google Alerts Atom feed (entry ids
`tag:google.com,2013:googlealerts/feed:…`, every link wrapped as
https://www.google.com/url?rct=j&sa=t&url=REAL&ct=ga&…, titles and content as escaped HTML).
The server does conditional GET as in RFC 9110 §13: `If-None-Match` against the ETag, else
`If-Modified-Since` against Last-Modified, answering 304 with no body.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LAST_MODIFIED = "Sun, 22 Nov 2026 10:00:00 GMT"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # pubDate of the first added post

RSS_TWO_ITEMS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Klachtenforum</title>
    <link>https://forum.example.nl/</link>
    <language>nl-nl</language>
    <item>
      <title>Acme levert weer niet</title>
      <link>https://forum.example.nl/t/1</link>
      <guid isPermaLink="false">forum-1</guid>
      <pubDate>Sun, 22 Nov 2026 09:00:00 GMT</pubDate>
      <author>klant@example.nl (Jan Klant)</author>
      <description>&lt;p&gt;Pakket &lt;b&gt;kwijt&lt;/b&gt;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description>
    </item>
    <item>
      <title>Acme helpdesk onbereikbaar</title>
      <link>https://forum.example.nl/t/2</link>
      <guid isPermaLink="false">forum-2</guid>
      <pubDate>Sun, 22 Nov 2026 09:30:00 GMT</pubDate>
      <description>Al een uur in de wacht.</description>
    </item>
  </channel>
</rss>
"""

ATOM_GOOGLE_ALERTS = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">
  <id>tag:google.com,2005:reader/user/08111746092629807497/state/com.google/alert/6708412876604198226</id>
  <title>Google Alert - acme</title>
  <link href="https://www.google.com/alerts/feeds/08111746092629807497/6708412876604198226" rel="self"/>
  <updated>2026-11-22T10:00:00Z</updated>
  <entry>
    <id>tag:google.com,2013:googlealerts/feed:11111111111111111111</id>
    <title type="html">&lt;b&gt;Acme&lt;/b&gt; laat klanten weken wachten op terugbetaling</title>
    <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://nieuws.example.nl/acme-terugbetaling&amp;ct=ga&amp;cd=CAIyGjg0&amp;usg=AOvVaw0abc"/>
    <published>2026-11-22T09:40:00Z</published>
    <updated>2026-11-22T09:40:00Z</updated>
    <content type="html">Klanten van &lt;b&gt;Acme&lt;/b&gt; wachten
      &lt;img src=x onerror=alert(1)&gt; al weken ...</content>
    <author><name></name></author>
  </entry>
</feed>
"""

# The second <item> is cut off mid-way: feedparser sets `bozo` and keeps what it could read.
RSS_BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Kapotte feed</title>
  <item><title>Acme goed item</title><link>https://blog.example.nl/goed</link>
    <guid>blog-goed</guid><pubDate>Sun, 22 Nov 2026 08:00:00 GMT</pubDate></item>
  <item><title>Acme afgebroken &amp; <b>onaf</title><link>https://blog.example.nl/kapot
"""

# No guid and no dates: ids come from a hash, and `seen` must keep them from coming back.
RSS_UNDATED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Zonder datum</title>
  <item><title>Acme storing</title><link>https://status.example.nl/1</link></item>
  <item><title>Acme storing voorbij</title><link>https://status.example.nl/2</link></item>
  <item></item>
</channel></rss>
"""


def rss(items: list[str], title: str = "Klachtenforum") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f'<link>https://forum.example.nl/</link>{"".join(items)}</channel></rss>').encode()


class FakeFeed:
    """Serves `body` (a fixed feed) or, once `add_posts` is used, a feed built from `items`.
    The ETag follows the content, as most servers derive it."""

    markup = "html"  # FakeChannel: what the channel's posts are written in

    def __init__(self) -> None:
        self.base_url = ""  # set once served
        self.body = RSS_TWO_ITEMS
        self.items: list[str] = []
        self.etag_enabled = True
        self.last_modified: str | None = LAST_MODIFIED
        self.faults: list[Response] = []
        self.requests: list[dict[str, str]] = []
        self.revoked = False

    @property
    def etag(self) -> str | None:
        return f'"{hashlib.sha256(self.body).hexdigest()[:16]}"' if self.etag_enabled else None

    # --- controls (FakeChannel) -----------------------------------------------------------

    def add_posts(self, count: int, *, html: str | None = None) -> list[str]:
        guids = []
        for _ in range(count):
            n = len(self.items)
            guid, published = f"post-{n}", format_datetime(T0 + timedelta(minutes=n), usegmt=True)
            self.items.insert(0, f"<item><title>Acme klacht {n}</title><guid>{guid}</guid>"
                                 f"<link>https://forum.example.nl/{guid}</link><pubDate>{published}</pubDate>"
                                 f"<description>{escape(html or 'Acme levert weer niet.')}</description></item>")
            guids.append(guid)
        self.publish(rss(self.items))
        return guids

    def add_malformed(self) -> None:
        self.items.insert(0, "<item><description></description></item>")  # nothing to identify or show
        self.publish(rss(self.items))

    def fail_next(self, status: int, *, reset_in: timedelta | None = None) -> None:
        headers = {"Retry-After": str(int(reset_in.total_seconds()))} if reset_in else {}
        self.faults.append(Response(f"error {status}", status_code=status, headers=headers))

    def revoke_credentials(self) -> None:
        self.revoked = True

    def publish(self, body: bytes, *, last_modified: str | None = LAST_MODIFIED) -> None:
        self.body, self.last_modified = body, last_modified

    # --- protocol -------------------------------------------------------------------------

    def _not_modified(self, request: Request) -> bool:
        if (tag := request.headers.get("if-none-match")) is not None:
            return self.etag is not None and tag == self.etag
        since = request.headers.get("if-modified-since")
        return since is not None and since == self.last_modified

    async def feed(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if self.faults:
            return self.faults.pop(0)
        if self.revoked:
            return Response("Unauthorized", status_code=401, headers={"WWW-Authenticate": 'Basic realm="feed"'})
        validators = {k: v for k, v in (("ETag", self.etag), ("Last-Modified", self.last_modified)) if v}
        if self._not_modified(request):
            return Response(status_code=304, headers=validators)
        return Response(self.body, media_type="application/rss+xml; charset=utf-8", headers=validators)

    async def moved(self, request: Request) -> Response:
        return Response(status_code=301, headers={"Location": "/feed.xml"})

    async def hop(self, request: Request) -> Response:
        """`/hop/N`: a feed moved N times (`/hop/N-1`, ..., `/feed.xml`)."""
        n = request.path_params["n"]
        return Response(status_code=302, headers={"Location": f"/hop/{n - 1}" if n > 1 else "/feed.xml"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/feed.xml", self.feed), Route("/old-feed", self.moved),
                                 Route("/hop/{n:int}", self.hop)])
