"""Small graph specs shared by the graph tests."""


def conv(filters, activation=None, kernel_size=3, **kw):
    return {"layer": "conv", "filters": filters, "kernel_size": kernel_size,
            "activation": activation, **kw}


def chain_spec(n=4, size=16, channels=4, cell=None, feedback=(), skip=(),
               readout=5):
    """conv1 -> ... -> conv{n} -> readout, with optional extra edges."""
    nodes = []
    for i in range(1, n + 1):
        node = {"name": f"conv{i}",
                "pre_memory": [conv(channels, "elu")],
                "cell": dict(cell) if cell else None}
        if i == 1:
            node["input_shape"] = [size, size, 3]
        nodes.append(node)
    nodes.append({"name": "readout",
                  "pre_memory": [{"layer": "global_pool"},
                                 {"layer": "fc", "units": readout}]})
    names = [x["name"] for x in nodes]
    edges = list(zip(names[:-1], names[1:])) + list(skip) + list(feedback)
    return {"nodes": nodes, "edges": edges}
