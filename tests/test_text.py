from flows.operators.text import meaning_text


def test_meaning_text_drops_handles_links_and_the_apps_own_name():
    assert meaning_text("@StandardBankZA @FNBSA the app is down https://t.co/x1", ("Standard Bank", "standardbankza")) \
        == "the app is down"
    assert meaning_text("Standard bank app is always offline", ("Standard Bank",)) == "app is always offline"
    assert meaning_text("PhonePe's new UI is hard to use", ("PhonePe",)) == "'s new UI is hard to use"


def test_meaning_text_keeps_words_that_only_contain_the_name_and_keeps_a_text_that_would_be_empty():
    assert meaning_text("paytmmall refund pending", ("paytm",)) == "paytmmall refund pending"
    assert meaning_text("@Nedbank", ("Nedbank",)) == "@Nedbank"
    assert meaning_text("Paytm!!", ("Paytm",)) == "Paytm!!"
