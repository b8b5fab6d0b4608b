"""Open311 GeoReport v2: the public interface civic apps use to file and follow requests."""
