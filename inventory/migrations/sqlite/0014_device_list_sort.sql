-- The devices list filtered by category and sorted by last seen (the
-- newest printers, say) read every row of the category to sort it by
-- last_seen: 14,000 rows for a page of 50 with 100,000 devices. This index
-- hands them over in order, so the page stops after 50 matches.
CREATE INDEX devices_category_last_seen ON devices (category, last_seen);
