-- Finding the items derived from a recording (`source_id = $1 OR original_id = $1`, asked by the
-- recording page and by every decision) used only `recordings_by_source`, so the OR scanned the
-- whole recordings table; with this index both sides are looked up.
CREATE INDEX recordings_by_original ON recordings (original_id);
