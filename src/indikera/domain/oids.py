"""Object identifiers (OIDs) used by the GetQualityIndicators v2 contract."""

MEASURE_ID_ROOT = "1.2.826.0.1.3680043.9.4672.7"  # Kvalitetsindikatorkatalogen (KIK) measure ids
KOMMUN_ROOT = "1.2.752.129.2.2.1.17"  # SCB kommunkod, 4 digits
LAN_ROOT = "1.2.752.129.2.2.1.18"  # SCB länskod, 2 digits
LAND_ROOT = "1.2.752.129.2.2.1.19"  # ISO 3166-1; the extension is always "SE"
LAND_EXTENSION = "SE"
SJUKHUS_ROOT = "1.2.826.0.1.3680043.9.4672.5"  # Socialstyrelsen sjukhuskod
# No OID is defined for sjukvårdsregioner; the contract's own example uses these placeholders.
SJUKVARDSREGION_ROOT = "OID"
SOURCE_SYSTEM_HSA_ROOT = "1.2.752.129.2.1.4.1"  # systemId extension is an HSA-id
SOURCE_SYSTEM_LOCAL_ROOT = "1.2.752.129.2.1.2.1"  # systemId extension is a local id (prefixed by HSA-id)
SOURCE_SYSTEM_ROOTS = frozenset({SOURCE_SYSTEM_HSA_ROOT, SOURCE_SYSTEM_LOCAL_ROOT})
