-- A drawn signature's strokes (`x,y x,y;x,y …` in a 600 × 200 box), kept as evidence and
-- redrawn on the person's copy of the form (C2); NULL for typed and paper signatures.
ALTER TABLE consents ADD COLUMN signature_drawing TEXT;
