def main(config):
    load_model(config)
    load_data(config)
