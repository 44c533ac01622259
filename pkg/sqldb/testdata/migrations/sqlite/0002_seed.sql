-- A second step, with data: applying it twice would fail on the UNIQUE name.
CREATE INDEX items_note ON items (note);
INSERT INTO items (id, name) VALUES (1, 'seed');
