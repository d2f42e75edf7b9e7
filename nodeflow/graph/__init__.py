"""The graph file: its model, published-input and sweep syntax, subgraphs, order, modes and layout."""
