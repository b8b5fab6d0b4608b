/* Descriptions waiting for review before the public feed may show them. */
"use strict";

SB.pagedList({
  form: "review-filters",
  id: "review",
  url: "/api/requests/unreviewed",
  cursor: "cursor",
  filters: () => ({}),
  cells: (item) => [
    SB.requestLink(item.id),
    SB.serviceName(item.service_code),
    SB.when(item.created_at),
    item.description,
    SB.publicDescription(item),
  ],
  empty: "Nothing waits for review.",
});
