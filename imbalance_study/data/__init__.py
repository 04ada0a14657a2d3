"What the models train on: datasets and their loaders (`core`), the scarcity profiles (`profiles`), class and batch samplers (`samplers`), and the pieces for stock fastai DataLoaders (`fastai_dls`)."
