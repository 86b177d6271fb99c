"""The sample files shipped for branches to edit must load as they are."""

from importlib import resources

from lobby_app.core.business import DEFAULT_BUSINESS_TYPES, parse_business_table
from lobby_app.core.customer_csv import decode_csv_bytes, parse_customer_csv


def test_business_table_file_is_the_default_table() -> None:
    text = (resources.files("lobby_app.resources") / "business-types.csv").read_text("utf-8")
    assert parse_business_table(text) == [
        b.__class__(**{**b.__dict__, "sort_order": (i + 1) * 10})
        for i, b in enumerate(DEFAULT_BUSINESS_TYPES)
    ]


def test_sample_customers_import_cleanly() -> None:
    data = (resources.files("lobby_app.resources") / "sample-customers.csv").read_bytes()
    result = parse_customer_csv(decode_csv_bytes(data))
    assert result.errors == [] and len(result.records) == 3
    assert result.records[0].card_last4 == "6789"
