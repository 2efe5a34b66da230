r = 4
attention = model.model.layers[0].self_attn
per_layer = r * (attention.q_proj.in_features + attention.q_proj.out_features) + \
            r * (attention.v_proj.in_features + attention.v_proj.out_features)
lora_params = per_layer * len(model.model.layers)
check_lora_params(lora_params, model)
