/*
 * reviewbot-fixture: a drain loop that skips locked items instead of stopping
 * expect: drain=missing
 * expect-message: drain~does not leave the loop (continue goes to the next item)
 * why: the next item is drained, the locked one is left half-drained.
 */

static int drain_items(struct item *items, int n)
{
	struct item *it;

	for (it = items; it < items + n; it++) {
		struct item cur = item_get(it);
		if (item_locked(cur))
			continue;
		consume(cur);
	}
	return 0;
}
