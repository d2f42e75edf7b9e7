"""The graph file: its model, published inputs, subgraphs, order, modes and layout."""
