"""Line plant administration: junction boxes and number segments, the communities they
map lines to, and changes of those mappings (one at a time or from an uploaded file).

- :mod:`.search`: find boxes and segments, keyset pages, lines per mapping;
- :mod:`.targets`: whether a community may receive a mapping (kind, state, billing
  area, the person's org scope);
- :mod:`.changes`: check a batch of changes, write it (admin change log, re-attribution
  queue) in one transaction;
- :mod:`.movement`: the preview: lines and customers whose community would change;
- :mod:`.upload`: a CSV/XLSX of (box code or segment start, community code).
"""
