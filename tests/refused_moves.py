"""A party's move refused answers Post/Redirect/Get (web.public.refused): 303 to its page, which
says it once with the refusal's status."""


def followed(client, resp):
    """The refused send's page: ``resp`` is its 303 to the page; the page as the browser gets it next."""
    assert resp.status_code == 303, resp.status_code
    return client.get(resp.headers["Location"])
