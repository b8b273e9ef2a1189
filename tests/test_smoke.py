def test_create_customer(api):
    r = api.post("/customers", data={"name": "Acme", "payment_terms": "NET 30"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "CUST-00001"
